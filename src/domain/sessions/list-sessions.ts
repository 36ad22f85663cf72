import { assertCan, type Caller } from "../callers.js";
import { invalidArgument } from "../errors.js";
import type { SessionCursor, SessionQuery, SessionStore } from "../ports.js";
import type { AuthSession } from "./session.js";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** One page of sessions and the opaque token for the next one (empty on the last page). */
export interface ListSessionsResult {
  readonly sessions: readonly AuthSession[];
  readonly nextPageToken: string;
}

function encodeToken(cursor: SessionCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createTime.toISOString(), i: cursor.id })).toString(
    "base64url",
  );
}

function decodeToken(token: string): SessionCursor {
  try {
    const { t, i } = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      t: unknown;
      i: unknown;
    };
    const createTime = new Date(String(t));
    if (typeof i !== "string" || Number.isNaN(createTime.getTime())) throw new Error("bad cursor");
    return { createTime, id: i };
  } catch {
    throw invalidArgument("page_token", "is not a token this service issued");
  }
}

/**
 * Lists an app's sessions newest first, one page at a time.
 * Keyset pagination: a page token names the last row seen, so concurrent inserts never
 * shift rows between pages (no repeats, no skips).
 */
export async function listSessions(
  deps: { sessions: SessionStore },
  caller: Caller,
  query: SessionQuery,
  page: { size: number; token: string },
): Promise<ListSessionsResult> {
  assertCan(caller, "auth:read", query.appId);
  if (!Number.isInteger(page.size) || page.size < 0 || page.size > MAX_PAGE_SIZE) {
    throw invalidArgument("page_size", `must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  const size = page.size === 0 ? DEFAULT_PAGE_SIZE : page.size;
  const after = page.token ? decodeToken(page.token) : undefined;
  const result = await deps.sessions.list(query, size, after);
  return { sessions: result.sessions, nextPageToken: result.next ? encodeToken(result.next) : "" };
}
