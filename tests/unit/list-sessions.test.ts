import { describe, expect, it } from "vitest";
import type { Caller } from "../../src/domain/callers.js";
import type { SessionStore } from "../../src/domain/ports.js";
import { DEFAULT_PAGE_SIZE, listSessions, MAX_PAGE_SIZE } from "../../src/domain/sessions/list-sessions.js";

const APP = "cli_0123456789abcdef";
const reader: Caller = { name: "reader", can: () => true };

/** A port that records the limits it is asked for; the rule under test runs before any storage. */
function recordingStore(limits: number[]): { sessions: SessionStore } {
  return {
    sessions: {
      get: async () => undefined,
      insert: async () => {},
      list: async (_query, limit) => {
        limits.push(limit);
        return { sessions: [] };
      },
    },
  };
}

describe("listSessions page size", () => {
  it("defaults 0 and caps the page size in the domain, whatever the transport checked", async () => {
    const limits: number[] = [];
    const deps = recordingStore(limits);
    await listSessions(deps, reader, { appId: APP }, { size: 0, token: "" });
    await listSessions(deps, reader, { appId: APP }, { size: MAX_PAGE_SIZE, token: "" });
    for (const size of [MAX_PAGE_SIZE + 1, 1_000_000, -1]) {
      await expect(listSessions(deps, reader, { appId: APP }, { size, token: "" })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        details: { field: "page_size" },
      });
    }
    expect(limits).toEqual([DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE]);
  });
});
