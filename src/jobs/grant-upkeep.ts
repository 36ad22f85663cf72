import type { CronSchedule } from "../config/cron.js";
import { drainBatches } from "./batches.js";
import type { Job, JobLogger } from "./runner.js";

/** Rows per batch and batches per tick. */
const BATCH = 50;
const drain = (step: () => Promise<number>, signal: AbortSignal) =>
  drainBatches(step, { batch: BATCH, maxBatches: 20 }, signal);

/**
 * Re-authorization nudges (domain/grants/nudge.ts) on every replica: the once-a-day claim lives in
 * the database, so running everywhere at once tells each user once.
 */
export function createReauthNudgeJob(deps: {
  nudge: (limit: number) => Promise<number>;
  logger: JobLogger;
  intervalMs?: number;
}): Job {
  return {
    name: "reauthorization-nudge",
    intervalMs: deps.intervalMs ?? 60_000,
    async run(signal) {
      const n = await drain(() => deps.nudge(BATCH), signal);
      if (n > 0) deps.logger.info({ grants: n }, "told users to authorize again");
    },
  };
}

/**
 * The scheduled user-info sync: each tick syncs the grants not yet synced for the schedule's latest
 * occurrence (an occurrence missed while no replica ran is caught up once). Every replica runs it;
 * the claims keep them on disjoint grants.
 */
export function createUserInfoSyncJob(deps: {
  schedule: CronSchedule;
  sync: (occurrence: Date, limit: number) => Promise<number>;
  logger: JobLogger;
  now?: () => Date;
  intervalMs?: number;
}): Job {
  const now = deps.now ?? (() => new Date());
  return {
    name: "user-info-sync",
    intervalMs: deps.intervalMs ?? 60_000,
    async run(signal) {
      const occurrence = deps.schedule.previous(now());
      if (!occurrence) return;
      const n = await drain(() => deps.sync(occurrence, BATCH), signal);
      if (n > 0) deps.logger.info({ grants: n, occurrence: occurrence.toISOString() }, "synced user info");
    },
  };
}
