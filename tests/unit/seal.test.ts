import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSealer, SealError, type SealingKey } from "../../src/crypto/seal.js";

const key = (id: string): SealingKey => ({ id, key: randomBytes(32) });
const ROW = "grant:cli_0123456789abcdef:ou_alice:access";
const SECRET = "eyJhbGciOiJIUzI1NiJ9.secret-access-token.sig";

function caught(fn: () => unknown): SealError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SealError);
    return err as SealError;
  }
  throw new Error("expected a SealError");
}

describe("sealing", () => {
  it("round-trips and names its key in every ciphertext", () => {
    const sealer = createSealer([key("k1")]);
    const sealed = sealer.seal(SECRET, ROW);
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("secret-access-token");
    expect(sealer.open(sealed, ROW)).toBe(SECRET);
    expect(sealer.currentKeyId).toBe("k1");
  });

  it("uses a fresh nonce each time", () => {
    const sealer = createSealer([key("k1")]);
    expect(sealer.seal(SECRET, ROW)).not.toBe(sealer.seal(SECRET, ROW));
  });

  it("fails when any byte of the ciphertext changes", () => {
    const sealer = createSealer([key("k1")]);
    const sealed = sealer.seal(SECRET, ROW);
    const prefix = "v1.k1.";
    const blob = Buffer.from(sealed.slice(prefix.length), "base64url");
    for (let i = 0; i < blob.length; i++) {
      const copy = Buffer.from(blob);
      copy[i] = (copy[i] as number) ^ 0x01;
      const err = caught(() => sealer.open(prefix + copy.toString("base64url"), ROW));
      expect(err.reason).toBe("authentication_failed");
    }
  });

  it("fails for a value moved to another row (swapped associated data)", () => {
    const sealer = createSealer([key("k1")]);
    const access = sealer.seal(SECRET, ROW);
    const err = caught(() => sealer.open(access, "grant:cli_0123456789abcdef:ou_bob:access"));
    expect(err.reason).toBe("authentication_failed");
    expect(caught(() => sealer.open(access, ROW.replace(":access", ":refresh"))).reason).toBe(
      "authentication_failed",
    );
  });

  it("rotates: the new key seals, old values still open and ask to be re-sealed", () => {
    const old = key("old");
    const next = key("new");
    const before = createSealer([old]).seal(SECRET, ROW);
    const rotated = createSealer([next, old]);
    expect(rotated.open(before, ROW)).toBe(SECRET);
    expect(rotated.needsReseal(before)).toBe(true);
    const after = rotated.seal(rotated.open(before, ROW), ROW);
    expect(after.startsWith("v1.new.")).toBe(true);
    expect(rotated.needsReseal(after)).toBe(false);
  });

  it("fails loudly for an unknown key id, or a key id rewritten in the header", () => {
    const a = key("a");
    const b = key("b");
    const sealed = createSealer([a]).seal(SECRET, ROW);
    expect(caught(() => createSealer([b]).open(sealed, ROW)).reason).toBe("unknown_key");
    // b is configured but did not seal it: the authenticated header makes the rewrite fail.
    const rewritten = sealed.replace("v1.a.", "v1.b.");
    expect(caught(() => createSealer([a, b]).open(rewritten, ROW)).reason).toBe("authentication_failed");
  });

  it("rejects malformed values and bad key configuration", () => {
    const sealer = createSealer([key("k1")]);
    for (const bad of ["", "plain", "v2.k1.AAAA", "v1.k1.", "v1.k1.AAAA", "v1..AAAA"])
      expect(caught(() => sealer.open(bad, ROW)).reason).toBe("malformed");
    expect(() => createSealer([])).toThrow(SealError);
    expect(() => createSealer([{ id: "short", key: randomBytes(16) }])).toThrow(/32 bytes/);
    expect(() => createSealer([{ id: "a.b", key: randomBytes(32) }])).toThrow(SealError);
    expect(() => createSealer([key("dup"), key("dup")])).toThrow(/twice/);
  });

  it("never puts key material, plaintext or ciphertext in an error", () => {
    const k = key("k1");
    const sealer = createSealer([k]);
    const sealed = sealer.seal(SECRET, ROW);
    const errors = [
      caught(() => sealer.open(`${sealed.slice(0, -2)}AA`, ROW)),
      caught(() => sealer.open(sealed, "other-row")),
      caught(() => createSealer([key("k2")]).open(sealed, ROW)),
      caught(() => createSealer([{ id: "k1", key: k.key.subarray(0, 31) }])),
    ];
    const forbidden = [k.key.toString("base64"), k.key.toString("hex"), k.key.toString("base64url"), SECRET];
    for (const err of errors) {
      const text = `${err.message} ${JSON.stringify(err)} ${err.stack}`;
      for (const secret of forbidden) expect(text).not.toContain(secret);
      expect(text).not.toContain(sealed.split(".")[2]);
      expect(text).not.toContain("ou_alice");
    }
  });
});
