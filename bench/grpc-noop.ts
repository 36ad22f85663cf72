/**
 * Benchmark: the gRPC port's own stack (grpc-js mounted from protobuf-es descriptors, behind
 * the real interceptors: telemetry, authentication, validation) against a bare grpc-js server,
 * both answering a no-op unary RPC. Load comes from h2load (Debian's nghttp2-client), a separate
 * process, so the client does not saturate before the servers do. Rounds alternate between the
 * two servers so background noise hits both alike. Results go to bench/results/grpc-noop.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { haveH2load, listenGrpc, median, runH2load, writeGrpcFrame } from "./support/h2load.js";
import { bareNoopServer, NOOP_PATH, noopRequest, stackNoopServer } from "./support/noop-servers.js";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KEY = "lak_bench_caller_key_0000000000000000";

async function main(): Promise<void> {
  if (!(await haveH2load())) {
    console.log("grpc-noop: skipped (h2load not found: apt-get install -y nghttp2-client)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "lark-auth-bench-"));
  const payloadFile = writeGrpcFrame(dir, "req.bin", noopRequest());
  const bare = bareNoopServer();
  const stack = stackNoopServer(KEY);
  const target = (port: number) => ({ port, path: NOOP_PATH, payloadFile, callerKey: KEY });
  const targets = { bare: target(await listenGrpc(bare)), stack: target(await listenGrpc(stack)) };
  const rate = async (t: typeof targets.bare) => (await runH2load(t, REQUESTS, dir)).rate;
  await rate(targets.bare); // warm-up: JIT and connection setup for both
  await rate(targets.stack);
  const results: { bare: number; stack: number }[] = [];
  for (let i = 0; i < ROUNDS; i++)
    results.push({ bare: await rate(targets.bare), stack: await rate(targets.stack) });
  bare.forceShutdown();
  stack.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
  // The verdict uses the median of per-round ratios: each round measures both servers back to
  // back, so a noisy moment on the machine depresses both sides of the same ratio.
  const m = { bare: median(results.map((r) => r.bare)), stack: median(results.map((r) => r.stack)) };
  const ratio = median(results.map((r) => r.stack / r.bare));
  const rows = results.map(
    (r, i) =>
      `| ${i + 1} | ${r.bare.toFixed(0)} | ${r.stack.toFixed(0)} | ${(r.stack / r.bare).toFixed(2)} |`,
  );
  const report = [
    "# gRPC no-op unary throughput: service stack vs bare grpc-js",
    "",
    `Measured ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.versions.node}, ` +
      `${REQUESTS} requests per run, h2load -c 2 -m 50 -t 1 (2 connections, 50 concurrent streams each).`,
    "",
    "| round | bare grpc-js (req/s) | service stack (req/s) | ratio |",
    "|---|---|---|---|",
    ...rows,
    `| **median** | **${m.bare.toFixed(0)}** | **${m.stack.toFixed(0)}** | **${ratio.toFixed(2)}** (median of ratios) |`,
    "",
    `Goal: service stack >= 0.80x bare. Result: ${ratio >= 0.8 ? "met" : "NOT met"} (${ratio.toFixed(2)}x).`,
    "",
  ].join("\n");
  writeFileSync(new URL("./results/grpc-noop.md", import.meta.url), report);
  process.stdout.write(report);
  // A benchmark never fails the run on a number: the goal is judged from the committed results.
}

await main();
