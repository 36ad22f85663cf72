import { randomBytes } from "node:crypto";
import type { ServiceConfig } from "../config/types.js";
import { createSealer } from "../crypto/seal.js";
import type { RefreshClaim } from "../domain/grants/grant.js";
import { createGrantCache } from "../domain/grants/grant-cache.js";
import {
  createGrantRefresher,
  DEFAULT_REFRESH_TIMINGS,
  type RefreshTimings,
} from "../domain/grants/refresh.js";
import { createTokenUseCases } from "../domain/grants/token-service.js";
import type { LarkGateway } from "../domain/ports.js";
import { createGrantRefresherJob } from "../jobs/grant-refresher.js";
import { createShareLimiter, type RateLimiter, scaleWindows } from "../jobs/rate-limiter.js";
import { createJobRunner } from "../jobs/runner.js";
import type { Database } from "../store/database.js";
import { createInProcessNotifier, createPgNotifier, type GrantNotifier } from "../store/grant-notifier.js";
import { createGrantStore } from "../store/grant-store.js";
import { createTokenAuditWriter } from "../store/token-audit-store.js";
import type { Logger } from "../telemetry/logger.js";
import type { TokenMetrics } from "../telemetry/token-metrics.js";
import { tokenObservers } from "./token-telemetry.js";

/** What tests may change in the tokens part. */
export interface TokenOverrides {
  /** Refresh lease and upstream time-out (tests shorten them). */
  readonly refreshTimings?: Partial<RefreshTimings>;
  /** Test failpoint between Lark's answer and the commit (a throw = a crash there). */
  readonly afterRefreshAnswer?: (claim: RefreshClaim) => Promise<void> | void;
  /** Run the background refresher (default true). */
  readonly grantRefresher?: boolean;
  /** Grants the in-process cache holds (default 50,000); 0 turns it off (the cold-read benchmark). */
  readonly grantCacheEntries?: number;
}

/**
 * The tokens part: sealed grant store, change signal (LISTEN/NOTIFY on PostgreSQL, in-process embedded),
 * cache, single-flight refresher, audit trail, background refresher.
 */
export async function createGrants(p: {
  config: ServiceConfig;
  db: Database;
  logger: Logger;
  lark: LarkGateway;
  encryptionKeys: ServiceConfig["encryptionKeys"];
  overrides: TokenOverrides;
  metrics?: TokenMetrics;
  /** The process's token-endpoint limiter (flow/jobs.ts processLimiters): exchanges and polls draw from it too. */
  tokenLimiter: RateLimiter;
}) {
  const { db, logger, overrides } = p;
  // LISTEN needs a connection of its own: MikroORM's pool hands connections back between queries.
  const url = db.url;
  const changes: GrantNotifier =
    db.mode === "postgres" && url
      ? await createPgNotifier({
          url,
          onError: (err) => logger.warn({ err }, "grant change listener failed"),
        })
      : createInProcessNotifier();
  const sealer = createSealer(p.encryptionKeys);
  const store = createGrantStore(db, sealer, changes.publish);
  const { lark } = p;
  const clock = { now: () => new Date() };
  const instanceId = randomBytes(6).toString("hex");
  const observe = tokenObservers(p.metrics);
  const refresher = observe.refresher(
    createGrantRefresher({
      store,
      lark: observe.lark(lark),
      changes,
      clock,
      instanceId,
      timings: overrides.refreshTimings,
      afterUpstreamAnswer: overrides.afterRefreshAnswer,
    }),
  );
  const audit = createTokenAuditWriter(db, {
    onError: (err, pending) => logger.error({ err, pending }, "token audit write failed"),
    onDropped: (dropped) =>
      logger.error({ dropped }, "token reads left out of the audit trail: its buffer was full"),
  });
  const cache = observe.cache(
    createGrantCache({ store: observe.store(store), changes, maxEntries: overrides.grantCacheEntries }),
  );
  const policy = { threshold: p.config.options.tokenRefreshThreshold };
  const tokens = createTokenUseCases({ store, changes, lark, clock, cache, refresher, policy, audit });
  const job = createGrantRefresherJob({
    store,
    refresher,
    // At most 80% of this replica's token-endpoint budget (headroom × Lark's limits), drawn from the
    // same limiter as code exchanges and device polls, so a storm of refreshes never starves consents
    // and replicas configured with headroom 0.9 / N stay below Lark's limits together.
    limiter: createShareLimiter(p.tokenLimiter, {
      windows: scaleWindows(
        [
          { limit: p.config.options.larkRateLimitPerSecond, windowMs: 1000 },
          { limit: p.config.options.larkRateLimitPerMinute, windowMs: 60_000 },
        ],
        p.config.options.larkLimitHeadroom * 0.8,
      ),
    }),
    policy,
    logger,
    instanceId: `${instanceId}-job`,
    leaseMs: { ...DEFAULT_REFRESH_TIMINGS, ...overrides.refreshTimings }.leaseMs,
  });
  const runner = createJobRunner({ jobs: overrides.grantRefresher === false ? [] : [job], logger });
  runner.start();
  /** Closes by `deadline` (epoch ms): the jobs get half of what is left, the audit's last write the rest. */
  const close = async (deadline: number) => {
    await runner.stop(Math.max(0, (deadline - Date.now()) / 2));
    cache.close();
    await audit.close(deadline);
    await changes.close();
  };
  return { tokens, changes, close };
}
