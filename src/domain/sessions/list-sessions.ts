import { assertCan, type Caller } from "../callers.js";
import type { SessionQuery, SessionStore } from "../ports.js";
import type { PageTokens } from "./page-token.js";
import type { AuthSession } from "./session.js";

/** The page size when the caller asks for none (0). */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest page a caller may ask for; request validation refuses more, with the one message. */
export const MAX_PAGE_SIZE = 100;

/** One page of sessions and the opaque token for the next one (empty on the last page). */
export interface ListSessionsResult {
  readonly sessions: readonly AuthSession[];
  readonly nextPageToken: string;
}

/** Rows to fetch for a requested size: 0 (or less) means the default; never above the maximum. */
export function pageLimit(size: number): number {
  return size > 0 ? Math.min(Math.trunc(size), MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
}

/**
 * Lists an app's sessions newest first, one page at a time.
 * Keyset pagination: a page token names the last row seen, so concurrent inserts never
 * shift rows between pages (no repeats, no skips); tokens are signed and bound to the query.
 */
export async function listSessions(
  deps: { sessions: SessionStore; pageTokens: PageTokens },
  caller: Caller,
  query: SessionQuery,
  page: { size: number; token: string },
): Promise<ListSessionsResult> {
  assertCan(caller, "auth:read", query.appId);
  const after = page.token ? deps.pageTokens.open(page.token, query) : undefined;
  const result = await deps.sessions.list(query, pageLimit(page.size), after);
  const nextPageToken = result.next ? deps.pageTokens.issue(result.next, query) : "";
  return { sessions: result.sessions, nextPageToken };
}
