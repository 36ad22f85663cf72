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
 * commits or rolls back with the change it reports (transactional outbox). The log's writer lock and
 * the row's final id are taken inside COMMIT (auth-event.entity.ts), so a writer never holds the lock
 * while it waits on its own process; the id is not known before commit. Readers on other replicas are
 * woken by the table's NOTIFY trigger; on the embedded database the writer's process signals its own
 * hub after the commit (AuthUnitOfWorkDeps.afterCommit).
 */
export async function appendEvent(em: EntityManager, event: NewAuthEvent): Promise<void> {
  await em.insert(AuthEventSchema, rowOf(event));
}

/**
 * appendEvent for a writer that needs the event's id (the resume cursor) before it commits, e.g. a
 * test: the writer trigger fires IMMEDIATE for the rest of the transaction, so the lock is held from
 * here until commit: call it as the last statement.
 */
export async function appendEventReturningId(em: EntityManager, event: NewAuthEvent): Promise<string> {
  await em.execute('set constraints "auth_event_serialize_writers" immediate');
  await em.insert(AuthEventSchema, rowOf(event));
  // The trigger replaced the insert's provisional id with the identity's next value, in this session.
  const [row] = await em.execute<{ id: string }[]>(
    "select currval(pg_get_serial_sequence('auth_event', 'id'))::text as id",
  );
  return String(row?.id);
}

function rowOf(event: NewAuthEvent) {
  const appId = event.appId ?? event.session?.appId;
  if (!appId) throw new Error(`appendEvent(${event.type}): no app id and no session to take it from`);
  const openId = event.identity?.openId ?? event.session?.identity?.openId;
  return {
    type: event.type,
    appId,
    sessionId: event.sessionId ?? event.session?.id ?? null,
    openId: openId ?? null,
    reason: event.reason ?? null,
    payload: payloadOf(event),
  };
}
