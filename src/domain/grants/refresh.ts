import { isLarkError } from "../lark-error.js";
import type { Clock, LarkGateway } from "../ports.js";
import type { GrantChanges, GrantStore, RefreshClaim, StoredGrant } from "./grant.js";
import { authorizationRequired, larkUnavailable, refreshInProgress } from "./grant-errors.js";
import { classifyRefreshFailure, reauthReason, retryDelayMs } from "./refresh-outcome.js";

/** Timings of the refresh protocol. The lease must outlive the slowest upstream call (I2). */
export interface RefreshTimings {
  /** How long a claimed lease lasts (default 60 s). */
  readonly leaseMs: number;
  /** How long a flight waits for Lark before giving up on the answer (default 15 s, well below the lease). */
  readonly upstreamTimeoutMs: number;
}

export const DEFAULT_REFRESH_TIMINGS: RefreshTimings = { leaseMs: 60_000, upstreamTimeoutMs: 15_000 };

export interface RefresherDeps {
  readonly store: GrantStore;
  readonly lark: Pick<LarkGateway, "refreshToken">;
  readonly changes: GrantChanges;
  readonly clock: Clock;
  /** Unique per process: lease owners are `<instanceId>:<n>`, so every claim fences on its own. */
  readonly instanceId: string;
  readonly timings?: Partial<RefreshTimings>;
  readonly random?: () => number;
  /** Test failpoint: runs after Lark answered with a new pair, before it is committed (a throw = a crash). */
  readonly afterUpstreamAnswer?: (claim: RefreshClaim) => Promise<void> | void;
}

/** Refreshes grants with at most one Lark call per grant at a time across every replica. */
export interface GrantRefresher {
  /**
   * Returns the grant after a refresh newer than `seen` (this call's, or one another caller or replica
   * committed meanwhile). Callers in this process share one flight; each waits at most `waitMs`
   * (REFRESH_IN_PROGRESS after that: the flight goes on and commits for the next caller).
   */
  refresh(seen: StoredGrant, waitMs: number): Promise<StoredGrant>;
  /** Runs a claim already taken (the background refresher's batch); shares the flight with callers. */
  refreshClaimed(claim: RefreshClaim): Promise<StoredGrant>;
}

/** A promise that rejects after `ms` with `err`, and its cancel. */
function deadline(ms: number, err: () => Error): { promise: Promise<never>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(err()), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export function createGrantRefresher(deps: RefresherDeps): GrantRefresher {
  const timings = { ...DEFAULT_REFRESH_TIMINGS, ...deps.timings };
  const random = deps.random ?? Math.random;
  const flights = new Map<string, Promise<StoredGrant>>();
  let claims = 0;

  const reread = async (grantId: string, appId: string): Promise<StoredGrant> => {
    const grant = await deps.store.findById(grantId);
    if (!grant) throw authorizationRequired(appId, "NO_GRANT");
    return grant;
  };

  /** Waits until the lease holder is done (change signal or a short, growing poll), then re-reads. */
  const awaitHolder = async (seen: StoredGrant, leaseExpireTime: Date): Promise<StoredGrant> => {
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      await new Promise<void>((resolve) => {
        const stop = deps.changes.subscribe((c) => {
          if (c === "all" || (c.appId === seen.appId && c.openId === seen.identity.openId)) done();
        });
        const timer = setTimeout(() => done(), delay);
        function done() {
          stop();
          clearTimeout(timer);
          resolve();
        }
      });
      const now = await reread(seen.id, seen.appId);
      const expired = deps.clock.now() >= leaseExpireTime;
      if (now.version !== seen.version || !now.leaseExpireTime || expired) return now;
    }
  };

  /** One Lark call under a claim; "again" asks the flight to claim once more (confirmation, lost fence). */
  const attempt = async (claim: RefreshClaim): Promise<StoredGrant | "again"> => {
    let tokens: Awaited<ReturnType<LarkGateway["refreshToken"]>>;
    try {
      tokens = await deps.lark.refreshToken(claim.appId, claim.refreshToken);
    } catch (err) {
      // Anything but Lark's answer (a bug, a crash) leaves the attempt recorded: the lease lapses and
      // whoever claims next confirms, exactly as after a crash.
      if (!isLarkError(err)) throw err;
      const failure = classifyRefreshFailure(err);
      if (failure === "reauth" || (failure === "lost" && claim.confirmation)) {
        const reason = failure === "lost" ? "REFRESH_OUTCOME_UNKNOWN" : reauthReason(err);
        // A lost fence means someone rotated meanwhile (I4): their pair is the answer, not a dead grant.
        if (!(await deps.store.markReauthRequired(claim, reason))) return "again";
        throw authorizationRequired(claim.appId, reason);
      }
      if (failure === "lost") {
        // Lark may have rotated: record that, then confirm at once with the same token (at most once).
        await deps.store.releaseFailed(claim, { uncertain: true });
        return "again";
      }
      const delayMs = retryDelayMs(claim.failures + 1, random);
      const retryTime = new Date(deps.clock.now().getTime() + delayMs);
      await deps.store.releaseFailed(claim, { uncertain: claim.confirmation, retryTime });
      throw larkUnavailable(
        delayMs,
        failure === "transient" ? "Lark is unavailable" : "Lark refused the app",
      );
    }
    await deps.afterUpstreamAnswer?.(claim);
    // Persist first (I3): nobody sees the new access token before the pair is committed.
    return (await deps.store.commitRefresh(claim, tokens)) ?? "again";
  };

  /** Calls Lark under `claim`; stops waiting after the time-out but keeps the lease, so a late answer still commits (fenced). */
  const runClaim = async (claim: RefreshClaim): Promise<StoredGrant | "again"> => {
    const upstream = attempt(claim);
    upstream.catch(() => {});
    const limit = deadline(timings.upstreamTimeoutMs, () =>
      larkUnavailable(timings.leaseMs, "Lark did not answer in time"),
    );
    return Promise.race([upstream, limit.promise]).finally(limit.cancel);
  };

  const flight = async (seen: StoredGrant, claimed?: RefreshClaim): Promise<StoredGrant> => {
    let current = seen;
    if (claimed) {
      const out = await runClaim(claimed);
      if (out !== "again") return out;
      current = await reread(seen.id, seen.appId);
      if (current.version !== seen.version) return current;
    }
    // Bounded: each round either ends the flight or follows a state change (confirmation, lost fence).
    for (let round = 0; round < 8; round++) {
      const owner = `${deps.instanceId}:${++claims}`;
      const r = await deps.store.claimRefresh(current.id, current.version, owner, timings.leaseMs);
      if (r.kind === "claimed") {
        const out = await runClaim(r.claim);
        if (out !== "again") return out;
      } else if (r.kind === "held") {
        current = await awaitHolder(current, r.leaseExpireTime);
        if (current.version !== seen.version) return current;
        continue;
      } else if (r.kind === "backoff") {
        throw larkUnavailable(r.retryTime.getTime() - deps.clock.now().getTime(), "retrying later");
      } else if (r.kind === "unusable") {
        throw authorizationRequired(current.appId, r.reason);
      } else if (r.kind === "outcome_lost") {
        throw authorizationRequired(current.appId, "REFRESH_OUTCOME_UNKNOWN");
      }
      current = await reread(current.id, current.appId);
      if (current.version !== seen.version) return current;
    }
    throw larkUnavailable(1000, "the grant kept changing");
  };

  const share = (grantId: string, start: () => Promise<StoredGrant>): Promise<StoredGrant> => {
    let shared = flights.get(grantId);
    if (!shared) {
      shared = start().finally(() => flights.delete(grantId));
      flights.set(grantId, shared);
      shared.catch(() => {});
    }
    return shared;
  };

  return {
    refreshClaimed(claim) {
      const running = flights.get(claim.grantId);
      if (running) {
        // A caller here is already waiting for this grant: hand it the lease rather than hold two.
        return deps.store.release(claim).then(() => running);
      }
      // A stand-in for the row as claimed: the flight only needs its id, app, user and version.
      const seen = {
        id: claim.grantId,
        appId: claim.appId,
        identity: { openId: claim.openId },
        version: claim.version,
      } as StoredGrant;
      return share(claim.grantId, () => flight(seen, claim));
    },
    async refresh(seen, waitMs) {
      const shared = share(seen.id, () => flight(seen));
      const limit = deadline(waitMs, () => refreshInProgress(Math.min(1000, waitMs)));
      try {
        return await Promise.race([shared, limit.promise]);
      } finally {
        limit.cancel();
      }
    },
  };
}
