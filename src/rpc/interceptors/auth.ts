import type { CallerKeyConfig } from "../../config/types.js";
import { findByKey } from "../../crypto/caller-keys.js";
import { assertCan, type Caller, type Permission } from "../../domain/callers.js";
import { DomainError, DomainErrorCode } from "../../domain/errors.js";
import { callerOf } from "../context.js";
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
 * `Bearer` and one or more ASCII spaces (or tabs) before an RFC 6750 token68: anything else, a
 * non-ASCII space included, is malformed. JavaScript's `\s` and `trim()` would accept U+00A0 and
 * other Unicode spaces as separators, so neither is used here.
 */
const BEARER = /^[ \t]*Bearer[ \t]+([A-Za-z0-9._~+/-]+=*)[ \t]*$/i;

/** The presented caller key, or UNAUTHENTICATED; the header's content is never echoed. */
function presentedKey(header: string | undefined): string {
  if (header === undefined || header === "")
    // grpc-js drops a header holding non-ASCII bytes before we see it, so on gRPC "missing" may be "malformed".
    throw unauthenticated(
      "missing authorization: send `authorization: Bearer <caller key>` (ASCII only: gRPC drops a header with other characters)",
    );
  const key = BEARER.exec(header)?.[1];
  if (!key) throw unauthenticated("malformed authorization header: expected `Bearer <caller key>`");
  return key;
}

/**
 * Authenticates every call by its bearer caller key and sets the caller on the context. It runs
 * before validation (an unauthenticated caller learns nothing about the request rules) and
 * before authorization, which waits for a validated request.
 */
export function authenticateInterceptor(keys: () => readonly CallerKeyConfig[]): Interceptor {
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
    const entry = findByKey(keys(), presentedKey(call.ctx.header("authorization")));
    if (!entry) throw unauthenticated("unknown caller key");
    call.ctx.caller = callerFor(entry);
    return next(call);
  };
}

/**
 * When the request names an app, checks the method's permission on it before any handler runs.
 * It runs after validation, so the app id it names in a denial is well-formed and short. RPCs
 * that name no app (by session id) are checked by the use case once it knows the session's app;
 * a watch with no app filter must deliver only events of apps where the caller holds auth:watch.
 */
export const authorizeInterceptor: Interceptor = (next) => (call) => {
  const appId = (call.request as { appId?: unknown }).appId;
  const permission = METHOD_PERMISSIONS[call.method.name];
  if (permission && typeof appId === "string" && appId !== "")
    assertCan(callerOf(call.ctx), permission, appId);
  return next(call);
};
