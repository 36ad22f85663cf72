import { describe, expect, it } from "vitest";
import { createJobRunner, type Job, type JobLogger } from "../../src/jobs/runner.js";
import { FakeClock, flush } from "./jobs-fake-clock.js";

/** A logger that keeps what it was given. */
function recorder(): JobLogger & { errors: unknown[]; warnings: unknown[] } {
  const errors: unknown[] = [];
  const warnings: unknown[] = [];
  const noop = () => {};
  return {
    errors,
    warnings,
    error: (o: unknown) => errors.push(o),
    warn: (o: unknown) => warnings.push(o),
    info: noop,
    debug: noop,
  } as never;
}

/** A job whose ticks finish only when released, counting starts and concurrent runs. */
function gatedJob(name = "j", intervalMs = 1000) {
  const stats = { starts: 0, active: 0, maxActive: 0 };
  let release: () => void = () => {};
  const job: Job = {
    name,
    intervalMs,
    jitter: 0,
    async run() {
      stats.starts++;
      stats.active++;
      stats.maxActive = Math.max(stats.maxActive, stats.active);
      await new Promise<void>((r) => {
        release = r;
      });
      stats.active--;
    },
  };
  return { job, stats, release: () => release() };
}

describe("job runner", () => {
  it("ticks every interval after the previous tick ends", async () => {
    const clock = new FakeClock();
    let runs = 0;
    const job: Job = { name: "j", intervalMs: 1000, jitter: 0, run: async () => void runs++ };
    const runner = createJobRunner({ jobs: [job], logger: recorder(), clock });
    runner.start();
    await clock.advance(0);
    expect(runs).toBe(1);
    await clock.advance(3000);
    expect(runs).toBe(4);
    await runner.stop(100);
  });

  it("spreads pauses within the jitter", async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const job: Job = {
      name: "j",
      intervalMs: 1000,
      jitter: 0.5,
      run: async () => void starts.push(clock.now()),
    };
    const runner = createJobRunner({ jobs: [job], logger: recorder(), clock, random: () => 1 });
    runner.start();
    await clock.advance(10_000);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
    expect(gaps.every((g) => g === 1500)).toBe(true);
    await runner.stop(100);
  });

  it("never runs two ticks of a job at once; a wake during a tick runs once more right after", async () => {
    const clock = new FakeClock();
    const g = gatedJob();
    const runner = createJobRunner({ jobs: [g.job], logger: recorder(), clock });
    runner.start();
    await clock.advance(0);
    runner.wake("j");
    runner.wake("j");
    await clock.advance(5000);
    expect(g.stats).toMatchObject({ starts: 1, maxActive: 1 });
    g.release();
    await clock.advance(0);
    expect(g.stats.starts).toBe(2);
    g.release();
    await runner.stop(100);
  });

  it("logs a failing tick and keeps the schedule", async () => {
    const clock = new FakeClock();
    const logger = recorder();
    let runs = 0;
    const job: Job = {
      name: "boom",
      intervalMs: 1000,
      jitter: 0,
      run: async () => {
        runs++;
        throw new Error("db down");
      },
    };
    const runner = createJobRunner({ jobs: [job], logger, clock });
    runner.start();
    await clock.advance(2000);
    expect(runs).toBe(3);
    expect(logger.errors).toHaveLength(3);
    expect(logger.errors[0]).toMatchObject({ job: "boom" });
    await runner.stop(100);
  });

  it("stop aborts the tick's signal and waits for it to finish", async () => {
    const clock = new FakeClock();
    let sawAbort = false;
    const job: Job = {
      name: "j",
      intervalMs: 1000,
      jitter: 0,
      run: (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve();
          }),
        ),
    };
    const runner = createJobRunner({ jobs: [job], logger: recorder(), clock });
    runner.start();
    await clock.advance(0);
    await expect(runner.stop(1000)).resolves.toBe(true);
    expect(sawAbort).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it("stop gives up on a stuck tick at its deadline", async () => {
    const clock = new FakeClock();
    const g = gatedJob();
    const logger = recorder();
    const runner = createJobRunner({ jobs: [g.job], logger, clock });
    runner.start();
    await clock.advance(0);
    const stopped = runner.stop(500);
    await clock.advance(500);
    await expect(stopped).resolves.toBe(false);
    expect(logger.warnings).toHaveLength(1);
    runner.wake("j");
    g.release();
    await flush();
    expect(g.stats.starts).toBe(1);
  });
});
