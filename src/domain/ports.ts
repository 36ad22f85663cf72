import type { AuthSession, SessionState } from "./sessions/session.js";
import type { UserRef } from "./users.js";

/** Filters for listing sessions; all given filters must match. */
export interface SessionQuery {
  readonly appId: string;
  readonly user?: UserRef;
  readonly states?: readonly SessionState[];
}

/** A keyset position in the newest-first session order. */
export interface SessionCursor {
  readonly createTime: Date;
  readonly id: string;
}

/** One page of sessions and the position after its last row, if more may follow. */
export interface SessionPage {
  readonly sessions: readonly AuthSession[];
  readonly next?: SessionCursor;
}

/**
 * Durable storage of auth sessions.
 * - `get` returns `undefined` for an unknown id (never throws for a miss).
 * - `list` orders by create time then id, newest first, and is stable under inserts
 *   (keyset pagination), so a page never repeats or skips a row.
 */
export interface SessionStore {
  get(id: string): Promise<AuthSession | undefined>;
  list(query: SessionQuery, limit: number, after?: SessionCursor): Promise<SessionPage>;
  insert(session: AuthSession): Promise<void>;
}

/** The source of time; injected so tests control it. */
export interface Clock {
  now(): Date;
}
