import type { EntityManager } from "@mikro-orm/postgresql";
import type { NewAuthEvent } from "../domain/ports.js";
import type { AuthSession } from "../domain/sessions/session.js";
import { AuthEventSchema } from "./entities/index.js";

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

/**
 * Appends one event. The event log's writer lock and the row's final id are taken inside COMMIT (see
 * the entity), so the lock never waits on this process; the row's id is not known before commit.
 */
export async function appendAuthEvent(em: EntityManager, event: NewAuthEvent): Promise<void> {
  const identity = event.identity ?? event.session?.identity;
  const payload: Record<string, unknown> = {};
  if (event.session) payload.session = sessionSnapshot(event.session);
  if (identity) payload.identity = { ...identity };
  await em.insert(AuthEventSchema, {
    type: event.type,
    appId: event.appId,
    sessionId: event.sessionId ?? event.session?.id ?? null,
    openId: identity?.openId ?? null,
    reason: event.reason ?? null,
    // JSON round trip drops undefined fields, so the stored payload reads back exactly as written.
    payload: JSON.parse(JSON.stringify(payload)) as Record<string, unknown>,
  });
}
