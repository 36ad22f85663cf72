/**
 * Benchmark: the gRPC port's own stack (grpc-js mounted from protobuf-es descriptors, behind
 * the real interceptors: telemetry, authentication, validation) against a bare grpc-js server,
 * both answering a no-op unary RPC. Load comes from h2load (Debian's nghttp2-client), a separate
 * process, so the client does not saturate before the servers do. Rounds alternate between the
 * two servers so background noise hits both alike. Results go to bench/results/grpc-noop.md.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  AuthService,
  GetAuthSessionRequestSchema,
  GetAuthSessionResponseSchema,
} from "../gen/lark/auth/v1/auth_service_pb.js";
import { hashCallerKey } from "../src/crypto/caller-keys.js";
import { addGrpcService } from "../src/rpc/grpc-mount.js";
import { authenticateInterceptor, authorizeInterceptor } from "../src/rpc/interceptors/auth.js";
import { telemetryInterceptor } from "../src/rpc/interceptors/telemetry.js";
import { validateInterceptor } from "../src/rpc/interceptors/validate.js";
import { createPipeline } from "../src/rpc/pipeline.js";
import { createShutdownController } from "../src/shutdown.js";
import { createLogger } from "../src/telemetry/logger.js";
import { createMetrics } from "../src/telemetry/metrics.js";
import { getTracer } from "../src/telemetry/tracing.js";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KEY = "lak_bench_caller_key_0000000000000000";
const PATH = "/lark.auth.v1.AuthService/GetAuthSession";

function listen(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
}

async function bareServer(): Promise<grpc.Server> {
  const server = new grpc.Server();
  const empty = Buffer.alloc(0);
  const passthrough = (b: Buffer) => b;
  server.addService(
    {
      GetAuthSession: {
        path: PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: passthrough,
        requestDeserialize: passthrough,
        responseSerialize: passthrough,
        responseDeserialize: passthrough,
      },
    },
    { GetAuthSession: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, empty) },
  );
  return server;
}

async function serviceStackServer(): Promise<grpc.Server> {
  const server = new grpc.Server();
  const method = AuthService.method.getAuthSession;
  const handlers = new Map([[method, async () => create(GetAuthSessionResponseSchema)]]);
  const keys = [
    {
      name: "bench",
      keySha256: hashCallerKey(KEY),
      permissions: new Map([["*", new Set(["auth:read" as const])]]),
    },
  ];
  const metrics = createMetrics();
  const logger = createLogger({ level: "info" });
  const chain = [
    telemetryInterceptor(getTracer(), metrics.rpc, logger),
    authenticateInterceptor(() => keys),
    validateInterceptor,
    authorizeInterceptor,
  ];
  const pipeline = createPipeline(handlers, chain);
  // Only GetAuthSession is benchmarked; the mount registers the whole service as production does.
  addGrpcService(server, AuthService, { pipeline, logger, signals: createShutdownController(0) });
  return server;
}

function grpcFrame(message: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, Buffer.from(message)]);
}

// Asynchronous on purpose: the servers live in this process and must keep serving meanwhile.
async function h2load(port: number, payloadFile: string): Promise<number> {
  const { stdout: out } = await promisify(execFile)(
    "h2load",
    [
      "-n",
      String(REQUESTS),
      "-c",
      "2",
      "-m",
      "50",
      "-t",
      "1",
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      "-H",
      `authorization: Bearer ${KEY}`,
      "-d",
      payloadFile,
      `http://127.0.0.1:${port}${PATH}`,
    ],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded/.exec(out);
  if (!done || done[2] !== String(REQUESTS)) throw new Error(`h2load did not finish cleanly:\n${out}`);
  const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  return Number(rate?.[1]);
}

async function main(): Promise<void> {
  try {
    await promisify(execFile)("h2load", ["--version"]);
  } catch {
    console.log("grpc-noop: skipped (h2load not found: apt-get install -y nghttp2-client)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "lark-auth-bench-"));
  const payload = join(dir, "req.bin");
  writeFileSync(
    payload,
    grpcFrame(
      toBinary(
        GetAuthSessionRequestSchema,
        create(GetAuthSessionRequestSchema, { sessionId: "00000000-0000-4000-8000-000000000000" }),
      ),
    ),
  );
  const bare = await bareServer();
  const stack = await serviceStackServer();
  const ports = { bare: await listen(bare), stack: await listen(stack) };
  await h2load(ports.bare, payload); // warm-up: JIT and connection setup for both
  await h2load(ports.stack, payload);
  const results: { bare: number; stack: number }[] = [];
  for (let i = 0; i < ROUNDS; i++)
    results.push({ bare: await h2load(ports.bare, payload), stack: await h2load(ports.stack, payload) });
  bare.forceShutdown();
  stack.forceShutdown();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
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
