import type { LarkError } from "../lark-error.js";

/**
 * What a failed refresh means for the grant:
 * - `reauth`: the refresh token is dead (revoked, used, expired, invalid, user gone); after a re-read
 *   the grant becomes REAUTH_REQUIRED.
 * - `lost`: no answer reached us (reset, time-out after sending): Lark may have rotated; one confirmation.
 * - `transient`: Lark answered that it failed this time (5xx, 429, 20050, 20072); retry later, grant intact.
 * - `rejected`: Lark refuses the app, not the user (secret, console switch); grant intact, operators act.
 */
export type RefreshFailure = "reauth" | "lost" | "transient" | "rejected";

/** The one explicit table of Lark token-endpoint codes (reference §3.2). Codes not listed fall back on `kind`. */
const BY_CODE: ReadonlyMap<number, RefreshFailure> = new Map<number, RefreshFailure>([
  [20064, "reauth"], // refresh token revoked (single use, or the user revoked the grant)
  [20073, "reauth"], // refresh token already used
  [20026, "reauth"], // refresh token invalid
  [20037, "reauth"], // refresh token expired (TTL or the 365-day rule)
  [20008, "reauth"], // user does not exist
  [20010, "reauth"], // user outside the app's availability
  [20066, "reauth"], // user status invalid
  [20050, "transient"], // internal server error, retryable
  [20072, "transient"], // temporarily unavailable
  [99991400, "transient"], // rate limited
  [20002, "rejected"], // client secret invalid
  [20024, "rejected"], // token of another client id: a configuration mix-up, not the user's doing
  [20048, "rejected"], // app does not exist
  [20069, "rejected"], // app not enabled
  [20074, "rejected"], // refreshing disabled in the developer console
]);

/** Classifies a refresh failure: the table first, then HTTP status, then whether any answer came back. */
export function classifyRefreshFailure(err: LarkError): RefreshFailure {
  const byCode = BY_CODE.get(err.code);
  if (byCode) return byCode;
  if (err.httpStatus !== undefined && (err.httpStatus === 429 || err.httpStatus >= 500)) return "transient";
  // Never sent (the app's circuit is open): the refresh token cannot have rotated.
  if (err.noAnswer === "not_sent") return "transient";
  // No HTTP answer at all: the request may have been processed and the answer lost.
  if (err.httpStatus === undefined && err.kind === "transient") return "lost";
  if (err.oauthError === "invalid_grant") return "reauth";
  return err.kind === "transient" ? "transient" : "rejected";
}

/** The reason recorded on a grant that needs re-authorization, by Lark code. */
export function reauthReason(err: LarkError): string {
  switch (err.code) {
    case 20064:
      return "REFRESH_TOKEN_REVOKED";
    case 20073:
      return "REFRESH_TOKEN_ALREADY_USED";
    case 20037:
      return "REFRESH_TOKEN_EXPIRED";
    case 20026:
      return "REFRESH_TOKEN_INVALID";
    default:
      return "REFRESH_REJECTED";
  }
}

/** Capped exponential backoff with jitter in [cap/2, cap] after `failures` consecutive transient failures. */
export function retryDelayMs(failures: number, random: () => number, baseMs = 1000, capMs = 300_000): number {
  const cap = Math.min(capMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}
