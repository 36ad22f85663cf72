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
  readonly session?: AuthSession;
  readonly identity?: UserIdentity;
  /** UPPER_SNAKE_CASE, e.g. SUPERSEDED, USER_MISMATCH. */
  readonly reason?: string;
}

/** The row's payload: JSON-safe (ISO dates), secrets impossible by type (only these two keys). */
function payloadOf(event: NewAuthEvent): AuthEventPayload {
  const payload: { session?: AuthSession; identity?: UserIdentity } = {};
  if (event.session) payload.session = event.session;
  if (event.identity) payload.identity = event.identity;
  return JSON.parse(JSON.stringify(payload)) as AuthEventPayload;
}

/**
 * Appends one event inside the caller's transaction (`em` is the transaction's), so the event
 * commits or rolls back with the change it reports (transactional outbox). Returns the event's final
 * id (the resume cursor), so it sets the log's writer trigger IMMEDIATE for the rest of the
 * transaction: the insert takes the writer lock (auth-event.entity.ts), held until commit, so call it
 * as the last statement before commit. Writers that need no id use store/event-appender.ts, whose
 * lock is taken inside COMMIT. Readers on other replicas are woken by the table's NOTIFY trigger; on
 * the embedded database, call the hub's `notifyEventsCommitted()` after the commit for an immediate
 * wake-up.
 */
export async function appendEvent(em: EntityManager, event: NewAuthEvent): Promise<string> {
  const appId = event.appId ?? event.session?.appId;
  if (!appId) throw new Error(`appendEvent(${event.type}): no app id and no session to take it from`);
  const openId = event.identity?.openId ?? event.session?.identity?.openId;
  await em.execute('set constraints "auth_event_serialize_writers" immediate');
  await em.insert(AuthEventSchema, {
    type: event.type,
    appId,
    sessionId: event.session?.id ?? null,
    openId: openId ?? null,
    reason: event.reason ?? null,
    payload: payloadOf(event) as Record<string, unknown>,
  });
  // The trigger replaced the insert's provisional id with the identity's next value, in this session.
  const [row] = await em.execute<{ id: string }[]>(
    "select currval(pg_get_serial_sequence('auth_event', 'id'))::text as id",
  );
  return String(row?.id);
}
