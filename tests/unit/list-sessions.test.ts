import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/domain/callers.js";
import type { SessionCursor, SessionStore } from "../../src/domain/ports.js";
import {
  DEFAULT_PAGE_SIZE,
  listSessions,
  MAX_PAGE_SIZE,
  pageLimit,
} from "../../src/domain/sessions/list-sessions.js";
import { createPageTokens } from "../../src/domain/sessions/page-token.js";

const APP = "cli_0123456789abcdef";
const reader: Caller = { name: "reader", can: () => true };
const CURSOR: SessionCursor = {
  createTime: new Date("2026-01-01T00:00:00.123Z"),
  id: "0195f3c2-8a4b-7c3d-9e2f-1a2b3c4d5e6f",
};

/** A port that records what it is asked for and always has one more page; rules run before storage. */
function recordingStore(calls: { limit: number; after?: SessionCursor }[]): SessionStore {
  return {
    get: async () => undefined,
    insert: async () => {},
    list: async (_query, limit, after) => {
      calls.push({ limit, after });
      return { sessions: [], next: CURSOR };
    },
  };
}

describe("listSessions", () => {
  it("resolves 0 to the default page size and never asks the store for more than the maximum", () => {
    expect(pageLimit(0)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageLimit(7)).toBe(7);
    expect(pageLimit(MAX_PAGE_SIZE + 1)).toBe(MAX_PAGE_SIZE);
    expect(pageLimit(-1)).toBe(DEFAULT_PAGE_SIZE);
  });

  it("hands out a token the next call turns back into the same cursor, for the same query only", async () => {
    const calls: { limit: number; after?: SessionCursor }[] = [];
    const deps = { sessions: recordingStore(calls), pageTokens: createPageTokens(randomBytes(32)) };
    const first = await listSessions(deps, reader, { appId: APP }, { size: 3, token: "" });
    expect(first.nextPageToken).not.toBe("");
    await listSessions(deps, reader, { appId: APP }, { size: 3, token: first.nextPageToken });
    expect(calls.map((c) => c.after)).toEqual([undefined, CURSOR]);
    await expect(
      listSessions(
        deps,
        reader,
        { appId: APP, states: ["PENDING"] },
        { size: 3, token: first.nextPageToken },
      ),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT", details: { field: "page_token" } });
    expect(calls).toHaveLength(2);
  });
});
