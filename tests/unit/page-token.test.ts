import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { derivePageTokenKey, PAGE_TOKEN_KEY_INFO } from "../../src/crypto/page-token-key.js";
import type { SessionCursor, SessionQuery } from "../../src/domain/ports.js";
import {
  createPageTokens,
  isCursorInRange,
  PAGE_TOKEN_PROBLEM,
} from "../../src/domain/sessions/page-token.js";

const APP = "cli_0123456789abcdef";
const CURSOR: SessionCursor = {
  createTime: new Date("2026-03-04T05:06:07.089Z"),
  id: "0195f3c2-8a4b-7c3d-9e2f-1a2b3c4d5e6f",
};
const QUERY: SessionQuery = {
  appId: APP,
  user: { kind: "email", value: "Ann@Example.com" },
  states: ["PENDING", "AUTHORIZED"],
};

const refused = {
  code: "INVALID_ARGUMENT",
  message: `page_token: ${PAGE_TOKEN_PROBLEM}`,
  details: { field: "page_token" },
};

describe("page tokens", () => {
  const key = randomBytes(32);
  const tokens = createPageTokens(key);

  it("round-trip a cursor for the same query (filters in any order, emails in any case)", () => {
    const token = tokens.issue(CURSOR, QUERY);
    expect(token).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
    expect(tokens.open(token, QUERY)).toEqual(CURSOR);
    const same = {
      appId: APP,
      user: { kind: "email", value: "ann@example.com" },
      states: ["AUTHORIZED", "PENDING"],
    } as const;
    expect(tokens.open(token, same)).toEqual(CURSOR);
  });

  it("refuse a token issued for another app, user or state filter", () => {
    const token = tokens.issue(CURSOR, QUERY);
    for (const other of [
      { ...QUERY, appId: "cli_fedcba9876543210" },
      { ...QUERY, user: undefined },
      { ...QUERY, user: { kind: "open_id", value: "Ann@Example.com" } },
      { ...QUERY, states: ["PENDING"] },
      { appId: APP },
    ] as SessionQuery[]) {
      expect(() => tokens.open(token, other)).toThrow(expect.objectContaining(refused));
    }
  });

  it("refuse altered, truncated, foreign-key and unsigned tokens", () => {
    const token = tokens.issue(CURSOR, QUERY);
    const raw = Buffer.from(token, "base64url");
    for (const i of [0, 3, 20, raw.length - 1]) {
      const altered = Buffer.from(raw);
      altered[i] = (altered[i] ?? 0) ^ 1;
      expect(() => tokens.open(altered.toString("base64url"), QUERY)).toThrow(
        expect.objectContaining(refused),
      );
    }
    expect(() => tokens.open(raw.subarray(0, 40).toString("base64url"), QUERY)).toThrow(
      expect.objectContaining(refused),
    );
    const foreign = createPageTokens(randomBytes(32)).issue(CURSOR, QUERY);
    expect(() => tokens.open(foreign, QUERY)).toThrow(expect.objectContaining(refused));
    // The unsigned format of earlier builds: base64url JSON naming any instant and id.
    const unsigned = Buffer.from(JSON.stringify({ t: "+010000-01-01T00:00:00.000Z", i: CURSOR.id })).toString(
      "base64url",
    );
    expect(() => tokens.open(unsigned, QUERY)).toThrow(expect.objectContaining(refused));
    expect(() => tokens.open("x".repeat(100_000), QUERY)).toThrow(expect.objectContaining(refused));
  });

  it("refuse a correctly signed cursor outside the range SQL accepts (year 10000)", () => {
    // What a leaked key or a bug could produce: a valid MAC over an instant PostgreSQL rejects.
    const body = Buffer.alloc(25);
    body.writeUInt8(1, 0);
    body.writeBigInt64BE(BigInt(Date.UTC(10000, 0, 1)), 1);
    body.write(CURSOR.id.replaceAll("-", ""), 9, "hex");
    const binding = JSON.stringify([APP, [], []]);
    const mac = createHmac("sha256", key).update(body).update(binding).digest();
    const token = Buffer.concat([body, mac]).toString("base64url");
    expect(() => tokens.open(token, { appId: APP })).toThrow(expect.objectContaining(refused));
    expect(isCursorInRange({ createTime: new Date(Date.UTC(10000, 0, 1)), id: CURSOR.id })).toBe(false);
    expect(isCursorInRange({ createTime: new Date(Number.NaN), id: CURSOR.id })).toBe(false);
    expect(isCursorInRange({ ...CURSOR, id: "not-a-uuid" })).toBe(false);
    expect(isCursorInRange(CURSOR)).toBe(true);
  });

  it("take a key of at least 32 bytes, derived alike on every replica from the shared encryption key", () => {
    expect(() => createPageTokens(randomBytes(16))).toThrow(RangeError);
    const encryptionKey = randomBytes(32);
    const a = derivePageTokenKey(encryptionKey);
    expect(a).toHaveLength(32);
    expect(derivePageTokenKey(Buffer.from(encryptionKey))).toEqual(a);
    expect(a.equals(encryptionKey)).toBe(false);
    expect(derivePageTokenKey(randomBytes(32)).equals(a)).toBe(false);
    expect(PAGE_TOKEN_KEY_INFO).toBe("lark-auth page-token v1");
    const replica1 = createPageTokens(a);
    const replica2 = createPageTokens(derivePageTokenKey(encryptionKey));
    expect(replica2.open(replica1.issue(CURSOR, QUERY), QUERY)).toEqual(CURSOR);
  });
});
