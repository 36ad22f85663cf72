import type { CallerKeyConfig } from "../../config/types.js";
import { findByKey } from "../../crypto/caller-keys.js";
import { assertCan, type Caller, type Permission } from "../../domain/callers.js";
import { DomainError, DomainErrorCode } from "../../domain/errors.js";
import type { Interceptor } from "../pipeline.js";

/** The permission each RPC needs on the app it concerns (api-contract.md). */
export const METHOD_PERMISSIONS: Readonly<Record<string, Permission>> = {
  StartAuthorization: "auth:start",
  CancelAuthSession: "auth:start",
  CompleteAuthorization: "auth:start",
  GetAuthSession: "auth:read",
  ListAuthSessions: "auth:read",
  WatchAuthEvents: "auth:watch",
  GetUserAccessToken: "token:read",
  RefreshUserAccessToken: "token:read",
  GetUserInfo: "token:read",
  GetTenantAccessToken: "token:read",
  RevokeUserAuthorization: "token:revoke",
};

/** Builds the caller for a matched key: permissions per app, with `*` covering every app. */
export function callerFromKey(entry: CallerKeyConfig): Caller {
  return {
    name: entry.name,
    can: (permission, appId) =>
      Boolean(entry.permissions.get(appId)?.has(permission) || entry.permissions.get("*")?.has(permission)),
  };
}

function unauthenticated(message: string): DomainError {
  return new DomainError(DomainErrorCode.UNAUTHENTICATED, message);
}

/**
 * Authenticates every call by its bearer caller key and, when the request names an app,
 * checks the method's permission on it before anything else runs. RPCs that name no app
 * (by session id) are checked by the use case once it knows the session's app; a watch with no
 * app filter must deliver only events of apps where the caller holds auth:watch.
 */
export function authInterceptor(keys: () => readonly CallerKeyConfig[]): Interceptor {
  const callers = new WeakMap<CallerKeyConfig, Caller>();
  const callerFor = (entry: CallerKeyConfig) => {
    let caller = callers.get(entry);
    if (!caller) {
      caller = callerFromKey(entry);
      callers.set(entry, caller);
    }
    return caller;
  };
  return (next) => (call) => {
    const header = call.ctx.header("authorization");
    if (!header) throw unauthenticated("missing authorization: send `authorization: Bearer <caller key>`");
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!match?.[1]) throw unauthenticated("malformed authorization header: expected `Bearer <caller key>`");
    const entry = findByKey(keys(), match[1]);
    if (!entry) throw unauthenticated("unknown caller key");
    const caller = callerFor(entry);
    call.ctx.caller = caller;
    const appId = (call.request as { appId?: unknown }).appId;
    const permission = METHOD_PERMISSIONS[call.method.name];
    if (permission && typeof appId === "string" && appId !== "") assertCan(caller, permission, appId);
    return next(call);
  };
}
