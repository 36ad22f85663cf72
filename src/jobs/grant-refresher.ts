import type { ClaimResult, GrantStore, RefreshClaim, RefreshPolicy } from "../domain/grants/grant.js";
import type { GrantRefresher } from "../domain/grants/refresh.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { Job, JobLogger } from "./runner.js";

export interface GrantRefresherJobDeps {
  readonly store: Pick<GrantStore, "claimDue" | "release">;
  readonly refresher: Pick<GrantRefresher, "refreshClaimed">;
  /** The token endpoint's limiter (jobs/limits.ts `token`), keyed by app id. */
  readonly limiter: RateLimiter;
  readonly policy: RefreshPolicy;
  readonly logger: JobLogger;
  /** Unique per process; claims are `<instanceId>:<grant id>`. */
  readonly instanceId: string;
  readonly leaseMs: number;
  /** Grants claimed per batch (default 40: about a second of the token endpoint's budget). */
  readonly batchSize?: number;
  /** Refreshes in flight at once (default 8), so a slow Lark does not serialise the batch. */
  readonly concurrency?: number;
  /** Refresh a refresh token this long before its own expiry (default 1 day). */
  readonly refreshMarginMs?: number;
  readonly intervalMs?: number;
}

/** Batches per tick at most, so a tick stays bounded and the runner can stop between them. */
const MAX_BATCHES_PER_TICK = 50;

/**
 * Keeps grants alive ahead of expiry: claims due grants in small batches (SKIP LOCKED: replicas take
 * different ones, one worker per grant), then calls Lark for each only once the token endpoint's
 * limiter admits it, so a thousand grants due together are spread below Lark's limits instead of
 * answered with 429. Batches are small, so a claim never waits in the limiter anywhere near its lease.
 */
export function createGrantRefresherJob(deps: GrantRefresherJobDeps): Job {
  const batchSize = deps.batchSize ?? 40;
  const concurrency = deps.concurrency ?? 8;
  const due = { threshold: deps.policy.threshold, refreshMarginMs: deps.refreshMarginMs ?? 86_400_000 };

  const refreshOne = async (claim: RefreshClaim, signal: AbortSignal) => {
    try {
      await deps.limiter.acquire(claim.appId, { signal });
    } catch {
      return deps.store.release(claim); // stopping: Lark was never called, give the claim back
    }
    // Failures are recorded on the row by the refresher (backoff, uncertain, re-authorization).
    await deps.refresher.refreshClaimed(claim).catch(() => {});
  };

  const runBatch = async (signal: AbortSignal): Promise<number> => {
    const results = await deps.store.claimDue(batchSize, due, deps.instanceId, deps.leaseMs);
    const claims = results.flatMap((r: ClaimResult) => (r.kind === "claimed" ? [r.claim] : []));
    const queue = [...claims];
    const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let claim = queue.shift(); claim; claim = queue.shift()) await refreshOne(claim, signal);
    });
    await Promise.all(workers);
    return results.length;
  };

  return {
    name: "grant-refresher",
    intervalMs: deps.intervalMs ?? 5000,
    async run(signal) {
      for (let i = 0; i < MAX_BATCHES_PER_TICK && !signal.aborted; i++) {
        const n = await runBatch(signal);
        if (n > 0) deps.logger.debug({ claimed: n }, "refreshed due grants");
        if (n < batchSize) return;
      }
    },
  };
}
