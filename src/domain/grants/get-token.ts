import { assertCan, type Caller } from "../callers.js";
import { DomainError, DomainErrorCode } from "../errors.js";
import type { Clock } from "../ports.js";
import type { UserRef } from "../users.js";
import {
  defaultMinValidMs,
  missingScopes,
  type RefreshPolicy,
  remainingMs,
  type StoredGrant,
  type TokenAudit,
} from "./grant.js";
import type { GrantCache } from "./grant-cache.js";
import { authorizationRequired, insufficientScope } from "./grant-errors.js";
import type { GrantRefresher } from "./refresh.js";

export interface GetTokenDeps {
  readonly cache: GrantCache;
  readonly refresher: GrantRefresher;
  readonly clock: Clock;
  readonly policy: RefreshPolicy;
  readonly audit: TokenAudit;
}

export interface TokenRequest {
  readonly appId: string;
  readonly user: UserRef;
  readonly requiredScopes: readonly string[];
  /** 0: the policy's default, (1 - threshold) × the token's lifetime. */
  readonly minValidSeconds: number;
}

/**
 * Below this much lifetime a stored token is never served as a fallback while Lark is down: the caller
 * could not even send it before it expires.
 */
const FALLBACK_MIN_MS = 30_000;

/** The grant, or AUTHORIZATION_REQUIRED when there is none or it is dead. */
function assertUsable(appId: string, grant: StoredGrant | undefined): StoredGrant {
  if (!grant) throw authorizationRequired(appId, "NO_GRANT");
  if (grant.status === "REAUTH_REQUIRED") throw authorizationRequired(appId, "REAUTH_REQUIRED");
  return grant;
}

function assertScopes(appId: string, grant: StoredGrant, required: readonly string[]): void {
  const missing = missingScopes(grant, required);
  if (missing.length > 0) throw insufficientScope(appId, missing);
}

const isUnavailable = (err: unknown) =>
  err instanceof DomainError &&
  (err.code === DomainErrorCode.LARK_UNAVAILABLE || err.code === DomainErrorCode.REFRESH_IN_PROGRESS);

/**
 * GetUserAccessToken: load (cache) → usable → scopes → fresh enough? serve : refresh (single flight) →
 * usable → scopes → serve. While Lark is down, a default request is served the stored token as long as
 * it is unexpired (I10); an explicit min_valid_seconds that cannot be met is UNAVAILABLE with RetryInfo.
 */
export async function getUserAccessToken(
  deps: GetTokenDeps,
  caller: Caller,
  req: TokenRequest,
  waitMs: number,
): Promise<StoredGrant> {
  assertCan(caller, "token:read", req.appId);
  const grant = assertUsable(req.appId, await deps.cache.get(req.appId, req.user));
  assertScopes(req.appId, grant, req.requiredScopes);
  const explicit = req.minValidSeconds > 0;
  const minValidMs = explicit ? req.minValidSeconds * 1000 : defaultMinValidMs(grant, deps.policy);
  let served = grant;
  if (remainingMs(grant, deps.clock.now()) < minValidMs) {
    try {
      served = assertUsable(req.appId, await deps.refresher.refresh(grant, waitMs));
    } catch (err) {
      const left = remainingMs(grant, deps.clock.now());
      if (explicit || !isUnavailable(err) || left < FALLBACK_MIN_MS) throw err;
    }
    assertScopes(req.appId, served, req.requiredScopes);
  }
  record(deps, caller, served, "GetUserAccessToken");
  return served;
}

/** RefreshUserAccessToken: a refresh now, whatever the expiry (shared with any refresh already running). */
export async function refreshUserAccessToken(
  deps: GetTokenDeps,
  caller: Caller,
  req: { appId: string; user: UserRef },
  waitMs: number,
): Promise<StoredGrant> {
  assertCan(caller, "token:read", req.appId);
  const grant = assertUsable(req.appId, await deps.cache.get(req.appId, req.user));
  const fresh = assertUsable(req.appId, await deps.refresher.refresh(grant, waitMs));
  record(deps, caller, fresh, "RefreshUserAccessToken");
  return fresh;
}

function record(deps: GetTokenDeps, caller: Caller, grant: StoredGrant, rpc: string): void {
  deps.audit.record({
    caller: caller.name,
    appId: grant.appId,
    openId: grant.identity.openId,
    rpc,
    time: deps.clock.now(),
  });
}
