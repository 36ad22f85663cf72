import type { Logger } from "../telemetry/logger.js";
import { systemTimerClock, type TimerClock } from "./clock.js";

/** What the jobs log through (a pino Logger fits). */
export type JobLogger = Pick<Logger, "error" | "warn" | "info" | "debug">;

/** A periodic job. One tick does a bounded amount of work and returns. */
export interface Job {
  readonly name: string;
  /** Pause between the end of one tick and the start of the next, in milliseconds. */
  readonly intervalMs: number;
  /** Each pause is `intervalMs * (1 ± jitter)` (default 0.2), so replicas drift apart instead of ticking together. */
  readonly jitter?: number;
  /** One tick; `signal` aborts when the runner stops: finish the current item, then return. */
  run(signal: AbortSignal): Promise<void>;
}

export interface JobRunner {
  /** Schedules every job's first tick within one jittered interval (the first one soon). Idempotent. */
  start(): void;
  /**
   * Runs `name` as soon as possible: now when idle, or right after the running tick (so work that
   * arrived during a tick is never left for a whole interval). Unknown names and a stopped runner are ignored.
   */
  wake(name: string): void;
  /**
   * Stops scheduling, aborts the running ticks' signal and waits for them, at most `timeoutMs`.
   * Resolves true when every tick finished in time (false: some still run; their work is
   * safe to abandon, since claims are leases that expire). Never rejects.
   */
  stop(timeoutMs: number): Promise<boolean>;
}

export interface JobRunnerDeps {
  readonly jobs: readonly Job[];
  readonly logger: JobLogger;
  readonly clock?: TimerClock;
  readonly random?: () => number;
}

interface Slot {
  readonly job: Job;
  cancel?: () => void;
  running?: Promise<void>;
  again: boolean;
}

/**
 * Runs periodic jobs in this process: never two ticks of one job at once (single flight), errors
 * logged and never thrown (the next tick retries). Running on several replicas at once is the jobs'
 * own business: each claims its rows with `FOR UPDATE SKIP LOCKED` or a lease column, so replicas
 * share the work instead of repeating it; there is no leader.
 */
export function createJobRunner(deps: JobRunnerDeps): JobRunner {
  const clock = deps.clock ?? systemTimerClock;
  const random = deps.random ?? Math.random;
  const stopping = new AbortController();
  const slots = new Map(deps.jobs.map((job) => [job.name, { job, again: false } as Slot]));
  let started = false;

  const pause = (job: Job): number => {
    const jitter = job.jitter ?? 0.2;
    return Math.max(0, job.intervalMs * (1 - jitter + 2 * jitter * random()));
  };

  const schedule = (slot: Slot, ms: number): void => {
    slot.cancel?.();
    if (stopping.signal.aborted) return;
    slot.cancel = clock.setTimer(() => tick(slot), ms);
  };

  const tick = (slot: Slot): void => {
    slot.cancel = undefined;
    if (slot.running || stopping.signal.aborted) return;
    slot.again = false;
    slot.running = runOnce(slot.job).finally(() => {
      slot.running = undefined;
      schedule(slot, slot.again ? 0 : pause(slot.job));
    });
  };

  const runOnce = async (job: Job): Promise<void> => {
    try {
      await job.run(stopping.signal);
    } catch (err) {
      if (!stopping.signal.aborted)
        deps.logger.error({ err, job: job.name }, "job tick failed; retrying next tick");
    }
  };

  return {
    start() {
      if (started) return;
      started = true;
      for (const slot of slots.values())
        schedule(slot, slot.job.intervalMs * (slot.job.jitter ?? 0.2) * random());
    },
    wake(name) {
      const slot = slots.get(name);
      if (!slot || !started || stopping.signal.aborted) return;
      if (slot.running) slot.again = true;
      else schedule(slot, 0);
    },
    async stop(timeoutMs) {
      stopping.abort(new Error("job runner stopping"));
      for (const slot of slots.values()) slot.cancel?.();
      const running = [...slots.values()].flatMap((s) => (s.running ? [s.running] : []));
      let cancelTimer: (() => void) | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        cancelTimer = clock.setTimer(() => resolve(false), timeoutMs);
      });
      const done = await Promise.race([Promise.all(running).then(() => true), timeout]);
      cancelTimer?.();
      if (!done) deps.logger.warn({ timeoutMs }, "jobs still running at the end of the stop deadline");
      return done;
    },
  };
}
