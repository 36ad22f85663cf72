import { DomainError, DomainErrorCode } from "../errors.js";

/** No usable grant: the user must (re-)authorize. `reason` tells operators why, never a secret. */
export function authorizationRequired(appId: string, reason: string): DomainError {
  return new DomainError(
    DomainErrorCode.AUTHORIZATION_REQUIRED,
    `the user has not authorized app ${appId} (or must authorize it again)`,
    { metadata: { app_id: appId, grant_state: reason } },
  );
}

export function insufficientScope(appId: string, missing: readonly string[]): DomainError {
  return new DomainError(
    DomainErrorCode.INSUFFICIENT_SCOPE,
    `the user's grant for app ${appId} lacks ${missing.length} required scope(s)`,
    { metadata: { app_id: appId, missing_scopes: missing.join(" ") } },
  );
}

/** Lark could not refresh now; the grant is intact. */
export function larkUnavailable(retryAfterMs: number, why: string): DomainError {
  return new DomainError(DomainErrorCode.LARK_UNAVAILABLE, `Lark could not refresh the token: ${why}`, {
    retryAfterMs: Math.max(0, retryAfterMs),
  });
}

/** Another call (maybe on another replica) is refreshing this grant and did not finish within our wait. */
export function refreshInProgress(retryAfterMs: number): DomainError {
  return new DomainError(DomainErrorCode.REFRESH_IN_PROGRESS, "the token is being refreshed; retry shortly", {
    retryAfterMs: Math.max(0, retryAfterMs),
  });
}
