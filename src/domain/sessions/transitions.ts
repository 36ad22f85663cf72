import type { AuthEventType, AuthTx, CardFollowUp, NewAuthEvent } from "../ports.js";
import type { UserIdentity } from "../users.js";
import type { AuthSession, SessionState } from "./session.js";

/**
 * Why a session ended other than by consent; stable, clients branch on them. A decline from the
 * card's button (only the addressed user can press it) has none.
 */
export type FailureReason =
  | "SUPERSEDED"
  | "CANCELLED_BY_CALLER"
  | "USER_MISMATCH"
  | "CODE_INVALID"
  | "CODE_EXPIRED"
  | "CODE_ALREADY_USED"
  | "OFFLINE_ACCESS_MISSING"
  | "CARD_DELIVERY_FAILED"
  | "USER_INFO_FAILED"
  | "LARK_ERROR"
  | "DEVICE_CODE_EXPIRED"
  | "STORE_ERROR"
  /** DECLINED on Lark's own page (consent or device verification): Lark does not say by whom. */
  | "CONSENT_DENIED";

/** A final state and what to record with it. */
export interface Finish {
  readonly state: Exclude<SessionState, "PENDING">;
  readonly reason?: FailureReason;
  /** Safe for any reader: never a token, code, or the identity of someone else. */
  readonly message?: string;
  readonly identity?: UserIdentity;
}

const EVENT_OF: Record<Finish["state"], AuthEventType> = {
  AUTHORIZED: "AUTHORIZED",
  DECLINED: "DECLINED",
  EXPIRED: "EXPIRED",
  FAILED: "FAILED",
  CANCELLED: "CANCELLED",
};

/** The session after it ends: final state, completion time, and the failure or identity if any. */
export function finished(session: AuthSession, finish: Finish, now: Date): AuthSession {
  const next: AuthSession = { ...session, state: finish.state, completeTime: now };
  return {
    ...next,
    ...(finish.identity && { identity: finish.identity }),
    ...(finish.reason && { failureReason: finish.reason }),
    ...(finish.message && { failureMessage: finish.message }),
  };
}

/**
 * Ends a pending session inside `tx` with a compare-and-set update and returns the event to append.
 * Callers append events after every other write: the event insert holds the log's lock to commit.
 */
export async function applyFinish(
  tx: AuthTx,
  session: AuthSession,
  finish: Finish,
  now: Date,
  card: CardFollowUp = "schedule",
): Promise<{ session: AuthSession; event: NewAuthEvent }> {
  const next = finished(session, finish, now);
  await tx.updateSession(next, card);
  const event: NewAuthEvent = {
    type: EVENT_OF[finish.state],
    appId: next.appId,
    sessionId: next.id,
    session: next,
    ...(next.identity && { identity: next.identity }),
    ...(finish.reason && { reason: finish.reason }),
  };
  return { session: next, event };
}

/** applyFinish, then its event: for transactions that change one session and nothing after it. */
export async function commitFinish(
  tx: AuthTx,
  session: AuthSession,
  finish: Finish,
  now: Date,
  card: CardFollowUp = "schedule",
): Promise<AuthSession> {
  const done = await applyFinish(tx, session, finish, now, card);
  await tx.appendEvent(done.event);
  return done.session;
}

/** True when the session's deadline has passed, whatever the sweeper has done so far. */
export function isPastExpiry(session: AuthSession, now: Date): boolean {
  return now.getTime() >= session.expireTime.getTime();
}

/** The domain's EXPIRED transition (sweeper, a late callback, or a start finding a stale pending session). */
export const EXPIRED: Finish = { state: "EXPIRED" };

/**
 * Declined on Lark's page. Whoever opens the card's link reaches that page, and Lark's denial names
 * no one, so the record says where it happened instead of claiming the user declined.
 */
export const CONSENT_DENIED: Finish = {
  state: "DECLINED",
  reason: "CONSENT_DENIED",
  message:
    "declined on Lark's authorization page (Lark does not say by whom: anyone with the link can open it)",
};
