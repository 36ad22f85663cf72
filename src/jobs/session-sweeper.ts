import type { RetentionStore } from "../domain/jobs.js";
import type { Clock } from "../domain/ports.js";
import { drainBatches } from "./batches.js";
import type { Job, JobLogger } from "./runner.js";

/**
 * The domain's expire use case (domain/sessions/expire.ts): expires up to `limit` pending sessions
 * past their expire time (claimed with SKIP LOCKED), each with its event and card notification;
 * returns how many it expired.
 */
export type ExpireBatch = (limit: number) => Promise<number>;

export interface SessionSweeperOptions {
  /** Default 5 s: a session outlives its expire time by at most about this. */
  readonly expireIntervalMs?: number;
  /** How long finished sessions and events are kept (config option; default 7 days). */
  readonly retentionMs?: number;
  /** Default 10 minutes. */
  readonly pruneIntervalMs?: number;
  /** Rows per statement (default 200). */
  readonly batchSize?: number;
  /** Batches per tick before yielding to the next tick (default 20), so one tick stays short. */
  readonly maxBatches?: number;
}

export interface SessionSweeperDeps {
  readonly expire: ExpireBatch;
  readonly retention: RetentionStore;
  readonly clock: Clock;
  readonly logger: JobLogger;
  readonly options?: SessionSweeperOptions;
}

export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * Two jobs for the runner: `session-expiry` ends pending sessions past their time, and
 * `session-retention` deletes finished sessions older than the retention. Both work in
 * batches until a batch comes back short, the tick's batch budget is spent, or the runner stops;
 * safe on every replica at once (the statements claim rows with SKIP LOCKED).
 */
export function createSessionSweeper(deps: SessionSweeperDeps): { expiry: Job; retention: Job } {
  const o = deps.options ?? {};
  const batch = o.batchSize ?? 200;
  const maxBatches = o.maxBatches ?? 20;

  const drain = (signal: AbortSignal, step: () => Promise<number>) =>
    drainBatches(step, { batch, maxBatches }, signal);

  return {
    expiry: {
      name: "session-expiry",
      intervalMs: o.expireIntervalMs ?? 5000,
      async run(signal) {
        const n = await drain(signal, () => deps.expire(batch));
        if (n > 0) deps.logger.info({ expired: n }, "expired pending sessions");
      },
    },
    retention: {
      name: "session-retention",
      intervalMs: o.pruneIntervalMs ?? 600_000,
      async run(signal) {
        const before = new Date(deps.clock.now().getTime() - (o.retentionMs ?? DEFAULT_RETENTION_MS));
        // Events have their own, shorter window (event-pruner.ts): the log is not the sessions' archive.
        const sessions = await drain(signal, () => deps.retention.pruneSessions(before, batch));
        if (sessions > 0) deps.logger.info({ sessions }, "pruned past the retention period");
      },
    },
  };
}
