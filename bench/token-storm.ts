/**
 * Benchmark: a refresh storm. A thousand grants fall due together and the real service (buildApp on
 * PostgreSQL, its background refresher with the budget app.ts gives it, 0.72× of the limits) refreshes them against the
 * emulator enforcing Lark's documented token-endpoint limits (50/s and 1000/min per app, fixed windows,
 * HTTP 429 + 99991400 beyond). Measured: token-endpoint calls per second and per minute (sliding
 * windows, sampled every 100 ms) as a fraction of the limit, rate-limit answers (each would cost a
 * failed attempt recorded on its grant, and an extra call), and the time to refresh all against the
 * minimum Lark's limits allow. Needs PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL).
 * Results: bench/results/token-storm.md.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import {
  authorizedUser,
  insertGrant,
  startLarkWorld,
  tokenCalls,
} from "../tests/integration/grant-fixtures.js";
import {
  benchServerUrl,
  createBenchDatabase,
  machineLine,
  startBenchService,
} from "./support/token-world.js";

const GRANTS = Number(process.env.BENCH_STORM_GRANTS ?? 1000);
/** Lark's documented token-endpoint limits per app (reference §9). */
const PER_SECOND = 50;
const PER_MINUTE = 1000;
const SAMPLE_MS = 100;
/** The refresher's budget as app.ts builds it: 0.8 of the replica's share, lark_limit_headroom (0.9). */
const BUDGET = 0.8 * 0.9;

/** The fewest seconds `n` calls can take under both windows when started at a window boundary. */
function minimumSeconds(n: number, perSecond: number, perMinute: number): number {
  const fullMinutes = Math.floor((n - 1) / perMinute);
  const rest = n - fullMinutes * perMinute;
  return fullMinutes * 60 + Math.ceil(rest / perSecond) - 1;
}

/** The most calls any sliding window of `ms` saw, from cumulative samples. */
function peak(samples: readonly { t: number; n: number }[], ms: number): number {
  let best = 0;
  let j = 0;
  for (const s of samples) {
    while ((samples[j]?.t ?? s.t) < s.t - ms) j++;
    best = Math.max(best, s.n - (samples[Math.max(0, j - 1)]?.n ?? 0));
  }
  return best;
}

async function main(): Promise<void> {
  const serverUrl = benchServerUrl();
  if (!serverUrl) {
    console.log("token-storm: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server)");
    return;
  }
  const world = await startLarkWorld();
  const bench = await createBenchDatabase(serverUrl, "storm");
  try {
    // The app row the grants' foreign key needs comes from the first start.
    const seeding = await startBenchService(world, bench.db, { grantRefresher: false });
    await seeding.close();
    console.log(`token-storm: authorizing ${GRANTS} users`);
    const pending = Array.from({ length: GRANTS }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (pending.pop() !== undefined) {
          const who = await authorizedUser(world);
          // Past the refresh threshold (issued 7000 s ago, 200 s left): due at once, all together.
          await insertGrant(bench.db, world, who, { ageSeconds: 7000, leftSeconds: 200 });
        }
      }),
    );
    world.emulator.configure({ rate_limit_per_second: PER_SECOND, rate_limit_per_minute: PER_MINUTE });
    // The seeding's exchanges count in the emulator's current minute: start on a fresh one.
    await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 200));
    const load = loadavg()[0] ?? 0;
    const before = tokenCalls(world);
    const started = Date.now();
    const samples = [{ t: started, n: 0 }];
    const sampler = setInterval(
      () => samples.push({ t: Date.now(), n: tokenCalls(world) - before }),
      SAMPLE_MS,
    );
    console.log("token-storm: starting the service; its background refresher takes it from here");
    const app = await startBenchService(world, bench.db, {});
    let seconds = 0;
    try {
      for (;;) {
        const [row] = await bench.db
          .em()
          .execute<{ n: string }[]>("select count(*) as n from user_grant where last_refresh_time is null");
        if (Number(row?.n) === 0) break;
        if (Date.now() - started > 600_000)
          throw new Error(`${row?.n} grants still unrefreshed after 10 minutes`);
        await new Promise((r) => setTimeout(r, 250));
      }
      seconds = (Date.now() - started) / 1000;
    } finally {
      clearInterval(sampler);
      await app.close();
    }
    samples.push({ t: Date.now(), n: tokenCalls(world) - before });
    const calls = tokenCalls(world) - before;
    const [stats] = await bench.db.em().execute<{ failed: string; active: string }[]>(
      `select count(*) filter (where consecutive_refresh_failures > 0) as failed,
         count(*) filter (where status = 'ACTIVE') as active from user_grant`,
    );
    const report = {
      load,
      seconds,
      calls,
      failed: Number(stats?.failed),
      active: Number(stats?.active),
      perSecond: peak(samples, 1000),
      perMinute: peak(samples, 60_000),
      mean: calls / seconds,
      serverVersion: bench.serverVersion,
    };
    writeReport(report);
  } finally {
    await bench.drop();
    await world.emulator.close();
  }
}

function writeReport(r: {
  load: number;
  seconds: number;
  calls: number;
  failed: number;
  active: number;
  perSecond: number;
  perMinute: number;
  mean: number;
  serverVersion: string;
}): void {
  const atLimit = minimumSeconds(GRANTS, PER_SECOND, PER_MINUTE);
  const atBudget = minimumSeconds(GRANTS, PER_SECOND * BUDGET, PER_MINUTE * BUDGET);
  const rateLimited = r.calls - GRANTS;
  const report = [
    "# Refresh storm: a thousand grants due together, refreshed by the background refresher",
    "",
    machineLine(`PostgreSQL ${r.serverVersion}; load average (1 min) at the start: ${r.load.toFixed(1)}.`),
    "",
    `The real service (\`buildApp\`, one instance, the background refresher as app.ts builds it: 0.8 of the replica's token-endpoint budget, itself \`lark_limit_headroom\` 0.9 of Lark's limits, so 0.72× of them) starts with ${GRANTS} grants past their refresh threshold. The emulator enforces Lark's documented limits, ${PER_SECOND}/s and ${PER_MINUTE}/min per app (fixed windows, 429 beyond).`,
    "",
    "| measure | figure | against |",
    "|---|---|---|",
    `| token-endpoint calls | ${r.calls} | ${GRANTS} grants (one call each when nothing is refused) |`,
    `| rate-limit answers | **${rateLimited}** (grants with a failed attempt: ${r.failed}) | goal 0 |`,
    `| grants ACTIVE afterwards | ${r.active} | ${GRANTS} |`,
    `| peak calls in any 1 s | ${r.perSecond} | limit ${PER_SECOND}/s: **${(r.perSecond / PER_SECOND).toFixed(2)}×** |`,
    `| peak calls in any 60 s | ${r.perMinute} | limit ${PER_MINUTE}/min: **${(r.perMinute / PER_MINUTE).toFixed(2)}×** |`,
    `| mean calls per second | ${r.mean.toFixed(1)} | limit ${PER_SECOND}/s: ${(r.mean / PER_SECOND).toFixed(2)}× |`,
    `| time to refresh all | **${r.seconds.toFixed(1)} s** | minimum at Lark's limits ${atLimit} s (${(r.seconds / atLimit).toFixed(2)}×); at the refresher's 0.72× budget ${atBudget} s (${(r.seconds / atBudget).toFixed(2)}×) |`,
    "",
    "Sliding-window peaks are sampled every 100 ms, so they may read a call or two high or low against the emulator's fixed windows. The time includes the service's start and the refresher's first tick.",
    "",
  ].join("\n");
  writeFileSync(new URL("./results/token-storm.md", import.meta.url), report);
  process.stdout.write(report);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error("token-storm: failed:", err);
    process.exit(1);
  },
);
