import type { EntityManager } from "@mikro-orm/postgresql";
import type { AuthSession } from "../domain/sessions/session.js";
import type { UserIdentity } from "../domain/users.js";
import { AuthEventSchema, type AuthEventType } from "./entities/auth-event.entity.js";

/**
 * The payload every writer stores (the contract between writers and src/events/codec.ts):
 * the session as it is right after the change (dates become ISO strings), and/or the user's
 * identity when there is no session (token events). Never tokens, codes or other secrets.
 */
export interface AuthEventPayload {
  readonly session?: AuthSession;
  readonly identity?: UserIdentity;
}

/** One event to append; `appId`, `sessionId` and `openId` default from the session snapshot. */
export interface NewAuthEvent {
  readonly type: AuthEventType;
  readonly appId?: string;
  /** Defaults to the session's id. */
  readonly sessionId?: string;
  readonly session?: AuthSession;
  readonly identity?: UserIdentity;
  /** UPPER_SNAKE_CASE, e.g. SUPERSEDED, USER_MISMATCH. */
  readonly reason?: string;
}

/**
 * The session as events carry it: an allow-list of fields, so nothing secret can slip in when the
 * session type grows (the idempotency key stays out too: it is the caller's, not the watchers').
 */
export function sessionSnapshot(s: AuthSession): Record<string, unknown> {
  return {
    id: s.id,
    appId: s.appId,
    user: { kind: s.user.kind, value: s.user.value },
    state: s.state,
    flow: s.flow,
    requestedScopes: [...s.requestedScopes],
    identity: s.identity ? { ...s.identity } : undefined,
    failureReason: s.failureReason,
    failureMessage: s.failureMessage,
    createTime: s.createTime.toISOString(),
    expireTime: s.expireTime.toISOString(),
    completeTime: s.completeTime?.toISOString(),
    cardMessageId: s.cardMessageId,
    authorizeUrl: s.authorizeUrl,
    context: s.context,
  };
}

/** The row's payload: JSON-safe (ISO dates); the session through its allow-list, never secrets. */
function payloadOf(event: NewAuthEvent): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  if (event.session) payload.session = sessionSnapshot(event.session);
  const identity = event.identity ?? event.session?.identity;
  if (identity) payload.identity = { ...identity };
  // The JSON round trip drops undefined fields, so the stored payload reads back exactly as written.
  return JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
}

/**
 * Appends one event inside the caller's transaction (`em` is the transaction's), so the event
 * commits or rolls back with the change it reports (transactional outbox). Call it as the last
 * statement before commit: the insert takes the log's writer lock (auth-event.entity.ts), held
 * until commit. Readers on other replicas are woken by the table's NOTIFY trigger; on the embedded
 * database, call the hub's `notifyEventsCommitted()` after the commit for an immediate wake-up.
 * Returns the new event id (the resume cursor).
 */
export async function appendEvent(em: EntityManager, event: NewAuthEvent): Promise<string> {
  const appId = event.appId ?? event.session?.appId;
  if (!appId) throw new Error(`appendEvent(${event.type}): no app id and no session to take it from`);
  const openId = event.identity?.openId ?? event.session?.identity?.openId;
  const result = await em.insert(AuthEventSchema, {
    type: event.type,
    appId,
    sessionId: event.sessionId ?? event.session?.id ?? null,
    openId: openId ?? null,
    reason: event.reason ?? null,
    payload: payloadOf(event),
  });
  return String(result);
}
