/**
 * Benchmark: the card burst. 1,000 StartAuthorization calls for 1,000 users at once against the real
 * service (PostgreSQL, in-process emulator with its message limit raised to keep the run short), timed
 * until the emulator holds the last card. The anchor is arithmetic: the least time the emulator's
 * message limit allows (n / limit per second). Also StartAuthorization latency, under the burst and
 * one call at a time (no limit binds: cards go out after the answer). Results: bench/results/card-burst.md.
 * Needs PostgreSQL: BENCH_DATABASE_URL or TEST_DATABASE_URL (the embedded database serialises everything).
 */
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PER_SECOND = 200;
const PER_MINUTE = 60 * PER_SECOND;
const SEQUENTIAL = 200;
/** The service's default PostgreSQL pool (store/database.ts), not the tests' small one. */
const POOL_SIZE = Number(process.env.BENCH_POOL_SIZE ?? 10);

async function main(): Promise<void> {
  if (!url) {
    console.log("card-burst: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server)");
    return;
  }
  process.env.TEST_DATABASE_URL = url;
  const { startFlowEnv, newUser, byOpenId } = await import("../tests/support/auth-flow.js");
  const { cardBurst, minimumMs, percentile, raiseEmulatorLimits } = await import(
    "../tests/support/card-burst.js"
  );
  const { TEST_APP_ID } = await import("../tests/support/test-app.js");
  const rows: string[] = [];
  const ratios: number[] = [];
  let sequential: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const env = await startFlowEnv("redirect", {
      poolSize: POOL_SIZE,
      config: (c) => ({
        ...c,
        options: { ...c.options, larkRateLimitPerSecond: PER_SECOND, larkRateLimitPerMinute: PER_MINUTE },
      }),
    });
    try {
      raiseEmulatorLimits(env.emulator, PER_SECOND, PER_MINUTE);
      const r = await cardBurst(env, SESSIONS);
      const ratio = r.lastCardMs / minimumMs(SESSIONS, PER_SECOND);
      ratios.push(ratio);
      rows.push(
        `| ${round} | ${r.acceptMs.toFixed(0)} | ${r.lastCardMs.toFixed(0)} | ${minimumMs(SESSIONS, PER_SECOND).toFixed(0)} | ${ratio.toFixed(2)} | ${r.sendCalls - SESSIONS} | ${r.failures} | ${percentile(r.latencies, 50).toFixed(0)} / ${percentile(r.latencies, 99).toFixed(0)} |`,
      );
      if (round === 1) {
        // One call at a time after the burst drained: the answer never waits for a card.
        const { auth } = env.t.clients();
        for (let i = 0; i < SEQUENTIAL; i++) {
          const u = newUser(env.emulator, `S${i}`);
          const begin = performance.now();
          await auth.startAuthorization({
            appId: TEST_APP_ID,
            user: byOpenId(u.open_id),
            scopes: ["contact:user.base:readonly"],
          });
          sequential.push(performance.now() - begin);
        }
        sequential = sequential.sort((a, b) => a - b);
      }
      console.log(rows.at(-1));
    } finally {
      await env.close();
    }
  }
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)] ?? Number.NaN;
  const report = [
    "# Card burst: 1,000 StartAuthorization at once, time to the last card",
    "",
    `Measured ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.versions.node}, PostgreSQL, ${SESSIONS} sessions for ${SESSIONS} users, emulator message limit ${PER_SECOND}/s and ${PER_MINUTE}/min (the service configured with the same limits, headroom 0.9).`,
    "",
    "| round | all accepted (ms) | last card (ms) | minimum the limit allows (ms) | ratio | re-sent cards (rate-limit answers) | failed calls | StartAuthorization p50 / p99 under the burst (ms) |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Median ratio: **${median.toFixed(2)}×** (goal ≤ 1.25×).`,
    "",
    `StartAuthorization one call at a time (${SEQUENTIAL} calls, no limit binds): p50 ${percentile(sequential, 50).toFixed(1)} ms, p99 ${percentile(sequential, 99).toFixed(1)} ms.`,
    "",
  ].join("\n");
  writeFileSync(new URL("results/card-burst.md", import.meta.url), report);
  console.log(report);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
