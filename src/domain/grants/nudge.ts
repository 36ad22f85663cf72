import type { Caller } from "../callers.js";
import { DomainError, DomainErrorCode } from "../errors.js";
import type { StartAuthorizationInput } from "../sessions/start-authorization.js";

/** Why a user is told to authorize again. */
export type NudgeReason = "REAUTH_REQUIRED" | "REFRESH_TOKEN_EXPIRING";

/** A grant the nudge job claimed: the user is told once (event, and a card where the app nudges). */
export interface NudgeClaim {
  readonly grantId: string;
  readonly appId: string;
  readonly openId: string;
  readonly scopes: readonly string[];
  readonly reason: NudgeReason;
  /** The nudge time this claim replaced (absent: never nudged), so a failed card can give it back. */
  readonly previousNudgeTime?: Date;
  /** The nudge time this claim wrote: the fence of `unclaim`. */
  readonly nudgeTime: Date;
}

/**
 * The once-a-day bookkeeping of re-authorization nudges, on the grant rows. Claims are one conditional
 * update (`FOR UPDATE SKIP LOCKED`), so replicas running the job together never tell a user twice.
 */
export interface NudgeStore {
  /**
   * Up to `limit` grants needing re-authorization whose user was not told within `quietMs`, claimed by
   * setting their nudge time to now: grants of `nudgingApps` marked REAUTH_REQUIRED (their event was
   * appended when they were marked), and grants of any app whose refresh token expires within
   * `marginMs`, for which REAUTHORIZATION_REQUIRED (reason REFRESH_TOKEN_EXPIRING) is appended in the
   * same transaction.
   */
  claimDue(
    nudgingApps: readonly string[],
    due: { marginMs: number; quietMs: number },
    limit: number,
  ): Promise<NudgeClaim[]>;
  /** Puts the previous nudge time back when the card could not be started (fenced by the claim's time). */
  unclaim(claim: NudgeClaim): Promise<void>;
}

export interface NudgeDeps {
  readonly store: NudgeStore;
  /** The authorization flow's StartAuthorization (its card goes out through the card dispatcher). */
  readonly start: (caller: Caller, input: StartAuthorizationInput) => Promise<unknown>;
  /** Apps configured with `reauthorization_nudge`. */
  readonly nudgingApps: ReadonlySet<string>;
  readonly marginMs: number;
  readonly log: { warn(fields: Readonly<Record<string, unknown>>, message: string): void };
}

/** At most one nudge per user and app per this period. */
export const NUDGE_QUIET_MS = 24 * 3600 * 1000;

/** The job starts authorizations on the users' behalf; the app's own configuration allowed it. */
const NUDGER: Caller = { name: "reauthorization-nudge", can: (p) => p === "auth:start" };

const MESSAGES: Record<NudgeReason, string> = {
  REAUTH_REQUIRED: "Your authorization of this app has ended. Authorize it again to keep using it.",
  REFRESH_TOKEN_EXPIRING:
    "Your authorization of this app expires soon. Authorize it again to keep using it without interruption.",
};

/** Failures worth another try soon: the claim is given back instead of waiting a day. */
const retryable = (err: unknown) =>
  err instanceof DomainError &&
  (err.code === DomainErrorCode.RATE_LIMITED ||
    err.code === DomainErrorCode.STORE_UNAVAILABLE ||
    err.code === DomainErrorCode.LARK_UNAVAILABLE ||
    err.code === DomainErrorCode.SESSION_CONFLICT);

/**
 * One batch of re-authorization nudges: claims the users due (event appended for expiring tokens), then
 * for apps that nudge starts an authorization with `force` (their grant may still cover the scopes)
 * for the grant's scopes; the card goes out like any StartAuthorization's. Returns how many were claimed.
 */
export async function nudgeReauthorizations(deps: NudgeDeps, limit: number): Promise<number> {
  const claims = await deps.store.claimDue(
    [...deps.nudgingApps],
    { marginMs: deps.marginMs, quietMs: NUDGE_QUIET_MS },
    limit,
  );
  for (const claim of claims) {
    if (!deps.nudgingApps.has(claim.appId)) continue;
    try {
      await deps.start(NUDGER, {
        appId: claim.appId,
        user: { kind: "open_id", value: claim.openId },
        scopes: claim.scopes,
        force: true,
        message: MESSAGES[claim.reason],
      });
    } catch (err) {
      if (retryable(err)) await deps.store.unclaim(claim);
      deps.log.warn(
        { err, app_id: claim.appId, grant_id: claim.grantId, reason: claim.reason },
        "re-authorization nudge could not start an authorization",
      );
    }
  }
  return claims.length;
}
