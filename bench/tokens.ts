/**
 * Benchmark: GetUserAccessToken on the real service (buildApp on PostgreSQL, every interceptor, the
 * audit trail on), each scenario beside its anchor in the same run, rounds alternating, load from h2load
 * (a separate process, the same shape as grpc-noop.ts):
 *   - cached: a fresh grant served from the in-process cache, against the no-op RPC through the same
 *     interceptor stack (bench/support/noop-servers.ts). Goal: >= 0.85x its throughput, p99 <= 1.5x.
 *   - cold: the cache turned off (grantCacheEntries 0), so every call reads the row and unseals the
 *     access token, against a bare grpc-js server running the same SELECT through a plain `pg` Pool of
 *     the same size (10) and answering an empty message. Goal: >= 0.7x its throughput.
 * h2load counts HTTP 200 as success while gRPC errors travel in trailers, so every served read is
 * checked against the audit trail: one `token_access_audit` row per successful GetUserAccessToken.
 * Needs PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL) and h2load; skips with one line otherwise.
 * Results: bench/results/tokens.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { GetUserAccessTokenRequestSchema } from "../gen/lark/auth/v1/token_service_pb.js";
import { GRANT_COLUMNS } from "../src/store/grant-rows.js";
import {
  authorizedUser,
  byOpenId,
  CALLER_KEY,
  insertGrant,
  startLarkWorld,
} from "../tests/integration/grant-fixtures.js";
import {
  bareUnaryServer,
  type H2loadRun,
  type H2loadTarget,
  haveH2load,
  LOAD_SHAPE,
  listenGrpc,
  median,
  percentile,
  runH2load,
  writeGrpcFrame,
} from "./support/h2load.js";
import { NOOP_PATH, noopRequest, stackNoopServer } from "./support/noop-servers.js";
import {
  type BenchDatabase,
  benchServerUrl,
  createBenchDatabase,
  machineLine,
  pgPool,
  startBenchService,
} from "./support/token-world.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CACHED_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40_000);
const COLD_REQUESTS = Number(process.env.BENCH_COLD_REQUESTS ?? 20_000);
const TOKEN_PATH = "/lark.auth.v1.TokenService/GetUserAccessToken";

interface Round {
  readonly load: number;
  readonly anchor: H2loadRun;
  readonly project: H2loadRun;
}

interface Scenario {
  readonly rounds: Round[];
  /** Project calls made (warm-up included) and the audit rows they left: equal when every call succeeded. */
  readonly calls: number;
  readonly audited: number;
}

const p99 = (r: H2loadRun) => percentile(r.latencies, 99);
const p50 = (r: H2loadRun) => percentile(r.latencies, 50);

/** Warm-up for both, then `ROUNDS` rounds of anchor then project. */
async function alternate(
  anchor: H2loadTarget,
  project: H2loadTarget,
  requests: number,
  dir: string,
): Promise<Round[]> {
  await runH2load(anchor, requests, dir);
  await runH2load(project, requests, dir);
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const load = loadavg()[0] ?? 0;
    const a = await runH2load(anchor, requests, dir);
    const p = await runH2load(project, requests, dir);
    rounds.push({ load, anchor: a, project: p });
    console.log(
      `  round ${i + 1}: anchor ${a.rate.toFixed(0)}/s p99 ${p99(a).toFixed(1)} ms, project ${p.rate.toFixed(0)}/s p99 ${p99(p).toFixed(1)} ms`,
    );
  }
  return rounds;
}

async function auditRows(bench: BenchDatabase): Promise<number> {
  const [row] = await bench.db.em().execute<{ n: string }[]>("select count(*) as n from token_access_audit");
  return Number(row?.n);
}

async function close(server: grpc.Server): Promise<void> {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
}

async function main(): Promise<void> {
  const serverUrl = benchServerUrl();
  if (!serverUrl) {
    console.log("tokens: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server)");
    return;
  }
  if (!(await haveH2load())) {
    console.log("tokens: skipped (h2load not found: apt-get install -y nghttp2-client)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "lark-auth-bench-tokens-"));
  const world = await startLarkWorld();
  const bench = await createBenchDatabase(serverUrl, "tokens");
  try {
    const who = await authorizedUser(world);
    const appId = world.app.app_id;
    const openId = who.user.open_id;
    const request = create(GetUserAccessTokenRequestSchema, { appId, user: byOpenId(openId) });
    const tokenFile = writeGrpcFrame(dir, "token.bin", toBinary(GetUserAccessTokenRequestSchema, request));
    const noopFile = writeGrpcFrame(dir, "noop.bin", noopRequest());

    const scenario = async (
      name: string,
      anchor: grpc.Server,
      anchorPath: string,
      anchorFile: string,
      cacheEntries: number | undefined,
      requests: number,
    ): Promise<Scenario> => {
      console.log(`tokens: ${name}`);
      const app = await startBenchService(world, bench.db, {
        grantRefresher: false,
        grantCacheEntries: cacheEntries,
      });
      const before = await auditRows(bench);
      const anchorTarget = {
        port: await listenGrpc(anchor),
        path: anchorPath,
        payloadFile: anchorFile,
        callerKey: CALLER_KEY,
      };
      const projectTarget = {
        port: app.grpcPort,
        path: TOKEN_PATH,
        payloadFile: tokenFile,
        callerKey: CALLER_KEY,
      };
      try {
        const rounds = await alternate(anchorTarget, projectTarget, requests, dir);
        await app.close(); // flushes the audit trail
        return { rounds, calls: requests * (ROUNDS + 1), audited: (await auditRows(bench)) - before };
      } finally {
        await app.close();
        await close(anchor);
      }
    };

    // The grant is inserted once the first service synced the app row its foreign key needs.
    const seeding = await startBenchService(world, bench.db, { grantRefresher: false });
    await insertGrant(bench.db, world, who);
    await seeding.close();

    const cached = await scenario(
      "cached GetUserAccessToken vs the no-op RPC",
      stackNoopServer(CALLER_KEY),
      NOOP_PATH,
      noopFile,
      undefined,
      CACHED_REQUESTS,
    );
    const pool = pgPool(bench.url, 10);
    const select = `select ${GRANT_COLUMNS} from user_grant where app_id = $1 and open_id = $2`;
    const empty = Buffer.alloc(0);
    const bareSql = bareUnaryServer(TOKEN_PATH, async () => {
      await pool.query(select, [appId, openId]);
      return empty;
    });
    const cold = await scenario(
      "cold GetUserAccessToken (cache off) vs bare grpc-js + pg",
      bareSql,
      TOKEN_PATH,
      tokenFile,
      0,
      COLD_REQUESTS,
    ).finally(() => pool.end());
    writeReport(cached, cold, bench.serverVersion);
  } finally {
    await bench.drop();
    await world.emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(rounds: readonly Round[], anchorName: string): string[] {
  const rows = rounds.map((r, i) => {
    const [a, p] = [r.anchor, r.project];
    return `| ${i + 1} | ${r.load.toFixed(1)} | ${a.rate.toFixed(0)} | ${p.rate.toFixed(0)} | **${(p.rate / a.rate).toFixed(2)}** | ${p50(a).toFixed(1)} / ${p99(a).toFixed(1)} | ${p50(p).toFixed(1)} / ${p99(p).toFixed(1)} | **${(p99(p) / p99(a)).toFixed(2)}** |`;
  });
  return [
    `| round | load avg (1 min) | ${anchorName} (req/s) | GetUserAccessToken (req/s) | throughput ratio | ${anchorName} p50 / p99 (ms) | GetUserAccessToken p50 / p99 (ms) | p99 ratio |`,
    "|---|---|---|---|---|---|---|---|",
    ...rows,
  ];
}

const ratios = (rounds: readonly Round[]) => ({
  rate: median(rounds.map((r) => r.project.rate / r.anchor.rate)),
  p99: median(rounds.map((r) => p99(r.project) / p99(r.anchor))),
});

function verdict(s: Scenario): string {
  return s.audited === s.calls
    ? `every call succeeded (${s.calls} calls, ${s.audited} audit rows)`
    : `**${s.calls - s.audited} of ${s.calls} calls left no audit row: they failed, the figures are void**`;
}

function writeReport(cached: Scenario, cold: Scenario, pgVersion: string): void {
  const c = ratios(cached.rounds);
  const k = ratios(cold.rounds);
  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  const report = [
    "# GetUserAccessToken: cached and cold, each beside its anchor",
    "",
    machineLine(
      `PostgreSQL ${pgVersion}; ${LOAD_SHAPE}; ${ROUNDS} rounds, anchor then project, after one warm-up run of each.`,
    ),
    "",
    "The service is the real one (`buildApp`: every interceptor, info logs, the audit trail on, the default pool of 10), in the bench's process; the anchors run in the same process; h2load is the only client. Percentiles come from h2load's per-request log.",
    "",
    `## Cached: a fresh grant from the in-process cache, vs the no-op RPC (${CACHED_REQUESTS} requests per run)`,
    "",
    "Anchor: GetAuthSession answering an empty message behind the same interceptor chain (grpc-noop.ts's service stack).",
    "",
    ...table(cached.rounds, "no-op RPC"),
    "",
    `Median of per-round ratios: throughput **${c.rate.toFixed(2)}×** (goal ≥ 0.85×: ${met(c.rate >= 0.85)}), p99 **${c.p99.toFixed(2)}×** (goal ≤ 1.5×: ${met(c.p99 <= 1.5)}); ${verdict(cached)}.`,
    "",
    `## Cold: cache off, every call reads the row and unseals the token, vs bare grpc-js + \`pg\` (${COLD_REQUESTS} requests per run)`,
    "",
    "Anchor: a bare grpc-js server (bytes in and out untouched) running the service's grant SELECT for the same user through a plain `pg` Pool of 10 and answering an empty message.",
    "",
    ...table(cold.rounds, "bare grpc-js + pg"),
    "",
    `Median of per-round ratios: throughput **${k.rate.toFixed(2)}×** (goal ≥ 0.7×: ${met(k.rate >= 0.7)}), p99 ${k.p99.toFixed(2)}×; ${verdict(cold)}.`,
    "",
  ].join("\n");
  writeFileSync(new URL("./results/tokens.md", import.meta.url), report);
  process.stdout.write(report);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // Never on a number (the goal is judged from the results), only when the run itself broke.
    console.error("tokens: failed:", err);
    process.exit(1);
  },
);
