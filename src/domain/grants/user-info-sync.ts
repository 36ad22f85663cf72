import type { Caller } from "../callers.js";
import { DomainError, DomainErrorCode } from "../errors.js";
import type { UserIdentity, UserRef } from "../users.js";

/** A grant the scheduled sync claimed for one occurrence of its schedule. */
export interface IdentitySyncClaim {
  readonly grantId: string;
  readonly appId: string;
  readonly openId: string;
}

/** The sync's bookkeeping on the grant rows. */
export interface IdentitySyncStore {
  /**
   * Up to `limit` live grants not yet synced for `occurrence` (nor created after it), each stamped
   * with `occurrence` in the same statement (`FOR UPDATE SKIP LOCKED`): replicas running the sync
   * together take disjoint grants, and each grant is fetched once per occurrence.
   */
  claimUnsynced(occurrence: Date, limit: number): Promise<IdentitySyncClaim[]>;
}

export interface IdentitySyncDeps {
  readonly store: IdentitySyncStore;
  /** GetUserInfo with `refresh`: a fresh user token (refreshing if needed), Lark's answer stored. */
  readonly refetch: (
    caller: Caller,
    req: { appId: string; user: UserRef; refresh: boolean },
    waitMs: number,
  ) => Promise<UserIdentity>;
  readonly log: { warn(fields: Readonly<Record<string, unknown>>, message: string): void };
}

/** The sync reads tokens like a caller would, so its reads are audited under this name. */
const SYNC: Caller = { name: "user-info-sync", can: (p) => p === "token:read" };

/** How long one grant's token may wait for a refresh in flight. */
const WAIT_MS = 10_000;

/** The grant can no longer be used (dead, revoked meanwhile): nothing to sync, nothing to report. */
const gone = (err: unknown) =>
  err instanceof DomainError && err.code === DomainErrorCode.AUTHORIZATION_REQUIRED;

/**
 * One batch of the scheduled user-info sync for `occurrence`: claims grants, then re-fetches each
 * user's info from Lark with their own token and stores it. A failure skips that grant until the next
 * occurrence (the sync is a convenience: GetUserInfo with `refresh` fetches on demand). Returns how
 * many grants were claimed.
 */
export async function syncUserInfo(deps: IdentitySyncDeps, occurrence: Date, limit: number): Promise<number> {
  const claims = await deps.store.claimUnsynced(occurrence, limit);
  for (const claim of claims) {
    const user: UserRef = { kind: "open_id", value: claim.openId };
    try {
      await deps.refetch(SYNC, { appId: claim.appId, user, refresh: true }, WAIT_MS);
    } catch (err) {
      if (!gone(err))
        deps.log.warn({ err, app_id: claim.appId, grant_id: claim.grantId }, "user info sync failed");
    }
  }
  return claims.length;
}
