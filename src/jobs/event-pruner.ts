import type { RetentionStore } from "../domain/jobs.js";
import type { Clock } from "../domain/ports.js";
import type { Job, JobLogger } from "./runner.js";

/** How long events are kept by default: the window in which a watcher can resume (24 h). */
export const DEFAULT_EVENT_RETENTION_MS = 24 * 3600 * 1000;

export interface EventPrunerOptions {
  /** The job's name (default `event-retention`); the Lark inbox is pruned by the same job as `lark-inbox-retention`. */
  readonly name?: string;
  /** Events older than this are deleted (config; default 24 h). */
  readonly retentionMs?: number;
  /** Default 1 minute. */
  readonly intervalMs?: number;
  /** Rows per statement (default 500) and statements per tick (default 20). */
  readonly batchSize?: number;
  readonly maxBatches?: number;
}

export interface EventPrunerDeps {
  /** RetentionStore.pruneEvents: bounded batches claimed with SKIP LOCKED, so replicas never collide. */
  readonly prune: RetentionStore["pruneEvents"];
  readonly clock: Clock;
  readonly logger: JobLogger;
  readonly options?: EventPrunerOptions;
}

/**
 * The `event-retention` job: deletes events past the retention window, in batches until one comes
 * back short, the tick's budget is spent, or the runner stops. Safe on every replica at once. Each
 * delete advances the log's horizon (a trigger), so watchers resuming from a pruned cursor get
 * OUT_OF_RANGE instead of a silent gap.
 */
export function createEventPruner(deps: EventPrunerDeps): Job {
  const o = deps.options ?? {};
  const batch = o.batchSize ?? 500;
  const maxBatches = o.maxBatches ?? 20;
  return {
    name: o.name ?? "event-retention",
    intervalMs: o.intervalMs ?? 60_000,
    async run(signal) {
      const before = new Date(deps.clock.now().getTime() - (o.retentionMs ?? DEFAULT_EVENT_RETENTION_MS));
      let total = 0;
      for (let i = 0; i < maxBatches && !signal.aborted; i++) {
        const n = await deps.prune(before, batch);
        total += n;
        if (n < batch) break;
      }
      if (total > 0)
        deps.logger.info(
          { events: total, job: o.name ?? "event-retention" },
          "pruned events past the retention window",
        );
    },
  };
}
