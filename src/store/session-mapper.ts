import type { RequiredEntityData } from "@mikro-orm/core";
import type { AuthSession } from "../domain/sessions/session.js";
import type { UserIdentity } from "../domain/users.js";
import type { IAuthSession } from "./entities/index.js";

/** Row data for a new session, without the server-managed columns (version, sealed OAuth values). */
export type SessionRow = RequiredEntityData<IAuthSession>;

/** The one translation from domain sessions to rows; the inverse of sessionFromRow. */
export function sessionToRow(session: AuthSession): SessionRow {
  const identity = session.identity;
  return {
    id: session.id,
    appId: session.appId,
    requestedUserKind: session.user.kind,
    requestedUserValue: session.user.value,
    state: session.state,
    flow: session.flow,
    requestedScopes: [...session.requestedScopes],
    openId: identity?.openId ?? null,
    userId: identity?.userId ?? null,
    unionId: identity?.unionId ?? null,
    tenantKey: identity?.tenantKey ?? null,
    name: identity?.name ?? null,
    enName: identity?.enName ?? null,
    email: identity?.email ?? null,
    mobile: identity?.mobile ?? null,
    avatarUrl: identity?.avatarUrl ?? null,
    failureReason: session.failureReason ?? null,
    failureMessage: session.failureMessage ?? null,
    createTime: session.createTime,
    expireTime: session.expireTime,
    completeTime: session.completeTime ?? null,
    cardMessageId: session.cardMessageId ?? null,
    authorizeUrl: session.authorizeUrl ?? null,
    context: session.context ?? null,
    idempotencyKey: session.idempotencyKey ?? null,
  };
}

/** The one translation from rows to domain sessions: absent columns become absent fields. */
export function sessionFromRow(row: IAuthSession): AuthSession {
  return compact({
    id: row.id,
    appId: row.appId,
    user: { kind: row.requestedUserKind, value: row.requestedUserValue },
    state: row.state,
    flow: row.flow,
    requestedScopes: [...row.requestedScopes],
    identity: identityFromRow(row),
    failureReason: row.failureReason,
    failureMessage: row.failureMessage,
    createTime: row.createTime,
    expireTime: row.expireTime,
    completeTime: row.completeTime,
    cardMessageId: row.cardMessageId,
    authorizeUrl: row.authorizeUrl,
    context: row.context,
    idempotencyKey: row.idempotencyKey,
  });
}

function identityFromRow(row: IAuthSession): UserIdentity | undefined {
  if (row.openId == null) return undefined;
  return compact({
    openId: row.openId,
    userId: row.userId,
    unionId: row.unionId,
    tenantKey: row.tenantKey,
    name: row.name,
    enName: row.enName,
    email: row.email,
    mobile: row.mobile,
    avatarUrl: row.avatarUrl,
  });
}

type Compact<T> = { [K in keyof T]: Exclude<T[K], null> };

/** Drops null and undefined fields, so optional domain fields are absent rather than null. */
function compact<T extends object>(value: T): Compact<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v != null)) as Compact<T>;
}
