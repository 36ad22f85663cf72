/**
 * Benchmark: N watchers on one replica (WatchAuthEvents over the gRPC port) while events are
 * committed at a steady rate, against the anchor: a bare grpc-js server writing one pre-encoded
 * message to N open streams. The watchers live in a second process (this file run as `client`), so
 * the client does not measure itself. Reported per N: commit-to-watcher latency p50/p99 over every
 * (watcher, event) pair, and server RSS per watcher after a forced GC. Results go to
 * bench/results/watchers.md. Run with `node --expose-gc --import tsx bench/watchers.ts`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { WatchAuthEventsResponseSchema } from "../gen/lark/auth/v1/auth_service_pb.js";
import { buildApp } from "../src/app.js";
import { parseConfig } from "../src/config/index.js";
import { hashCallerKey } from "../src/crypto/caller-keys.js";
import { eventResponse } from "../src/events/codec.js";
import { openDatabase } from "../src/store/database.js";
import { appendEventReturningId } from "../src/store/event-writer.js";
import { createLogger } from "../src/telemetry/logger.js";

const PATH = "/lark.auth.v1.AuthService/WatchAuthEvents";
const KEY = "lak_bench_caller_key_0000000000000000";
const APP_ID = "cli_0123456789abcdef";
const SIZES = (process.env.BENCH_WATCHERS ?? "100,1000,10000").split(",").map(Number);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 30);
const RATE = Number(process.env.BENCH_RATE ?? 5); // events per second
const now = () => performance.timeOrigin + performance.now();
const passthrough = (b: Buffer) => b;
const method = {
  path: PATH,
  requestStream: false,
  responseStream: true,
  requestSerialize: passthrough,
  requestDeserialize: passthrough,
  responseSerialize: passthrough,
  responseDeserialize: passthrough,
};

// ---------------------------------------------------------------- client process
function varint(b: Buffer, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const byte = b[at++] as number;
    v += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [v, at];
    shift += 7;
  }
}

/** The event id of an encoded WatchAuthEventsResponse (field 1 event, its field 1), without decoding the rest. */
function eventIdOf(b: Buffer): string | undefined {
  if (b[0] !== 0x0a) return undefined; // a bookmark
  const [, inner] = varint(b, 1);
  if (b[inner] !== 0x0a) return undefined;
  const [len, at] = varint(b, inner + 1);
  return b.toString("utf8", at, at + len);
}

async function client(port: number, n: number): Promise<void> {
  const Client = grpc.makeGenericClientConstructor({ WatchAuthEvents: method }, "AuthService");
  // A few connections, as many watcher services would have: one HTTP/2 connection per 1,000 streams.
  const channels = Array.from(
    { length: Math.ceil(n / 1000) },
    (_, i) =>
      new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.channel_id": i } as never),
  );
  const received = new Map<string, number[]>();
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${KEY}`);
  const req = Buffer.from([0x0a, APP_ID.length, ...Buffer.from(APP_ID)]); // field 1 (app_id)
  for (let i = 0; i < n; i++) {
    const c = channels[i % channels.length] as grpc.Client &
      Record<string, (...a: unknown[]) => grpc.ClientReadableStream<Buffer>>;
    const call = (c.WatchAuthEvents as (r: Buffer, m: grpc.Metadata) => grpc.ClientReadableStream<Buffer>)(
      req,
      md,
    );
    call.on("data", (bytes: Buffer) => {
      const t = now();
      const id = eventIdOf(bytes);
      if (id === undefined) return;
      let list = received.get(id);
      if (!list) {
        list = [];
        received.set(id, list);
      }
      list.push(t);
    });
    call.on("error", () => undefined);
  }
  process.stdout.write("opened\n");
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const sent = JSON.parse(line) as Record<string, number>;
    const lat: number[] = [];
    let missing = 0;
    for (const [id, t0] of Object.entries(sent)) {
      const got = received.get(id) ?? [];
      missing += n - got.length;
      for (const t of got) lat.push(t - t0);
    }
    lat.sort((a, b) => a - b);
    const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
    process.stdout.write(`${JSON.stringify({ p50: pct(0.5), p99: pct(0.99), max: lat.at(-1), missing })}\n`);
    process.exit(0);
  }
}

// ---------------------------------------------------------------- server side
/** A typical authorized session snapshot: what an AUTHORIZED event carries. */
function benchSession(seq: number) {
  const t = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    id: crypto.randomUUID(),
    appId: APP_ID,
    user: { kind: "open_id" as const, value: `ou_bench${seq}` },
    state: "AUTHORIZED" as const,
    flow: "REDIRECT" as const,
    requestedScopes: ["contact:user.base:readonly", "offline_access"],
    identity: { openId: `ou_bench${seq}`, name: "Bench User", email: "bench@example.com" },
    createTime: t,
    expireTime: new Date(t.getTime() + 600_000),
    completeTime: t,
  };
}

interface Target {
  readonly port: number;
  openStreams(): number;
  /** Emits one event; resolves with its id once committed (or written, for the anchor). */
  emit(): Promise<string>;
  close(): Promise<void>;
}

async function projectTarget(): Promise<Target> {
  const url = process.env.DATABASE_URL;
  const db = await openDatabase(url ? { url } : {});
  const config = parseConfig({
    LARK_AUTH_GRPC_PORT: "0",
    LARK_AUTH_HTTP_PORT: "0",
    LARK_AUTH_BIND_HOST: "127.0.0.1",
    LARK_AUTH_SANDBOX: "0",
    LARK_APP_ID: APP_ID,
    LARK_APP_SECRET: "bench-secret",
    LARK_DOMAIN: "http://127.0.0.1:9",
    LARK_AUTH_CALLER_KEYS: `bench=${hashCallerKey(KEY)}`,
    LARK_AUTH_ENCRYPTION_KEYS: `b=${Buffer.alloc(32, 1).toString("base64")}`,
  });
  const logger = createLogger({ level: "warn", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const app = await buildApp(config, { db, logger, events: { maxBuffered: 1024 } });
  let seq = 0;
  return {
    port: app.grpcPort,
    openStreams: () => app.events.stats().watchers,
    async emit() {
      const session = benchSession(seq++);
      const id = await db
        .em()
        .transactional((em) => appendEventReturningId(em, { type: "AUTHORIZED", session }));
      app.events.notifyEventsCommitted();
      return id;
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}

async function anchorTarget(): Promise<Target> {
  const server = new grpc.Server();
  const calls = new Set<grpc.ServerWritableStream<Buffer, Buffer>>();
  server.addService({ WatchAuthEvents: method } as grpc.ServiceDefinition, {
    WatchAuthEvents: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      calls.add(call);
      call.on("cancelled", () => calls.delete(call));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  let id = 0;
  return {
    port,
    openStreams: () => calls.size,
    async emit() {
      const eventId = String(++id);
      // The same content the project sends, so the client decodes both alike.
      const payload = JSON.parse(JSON.stringify({ session: benchSession(id) })) as Record<string, unknown>;
      const row = {
        id: BigInt(eventId),
        type: "AUTHORIZED" as const,
        occurTime: new Date(),
        appId: APP_ID,
        payload,
      };
      const bytes = Buffer.from(toBinary(WatchAuthEventsResponseSchema, eventResponse(row)));
      for (const call of calls) call.write(bytes);
      return eventId;
    },
    async close() {
      for (const call of calls) call.end();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

function rssAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

async function round(kind: "project" | "anchor", n: number) {
  const target = kind === "project" ? await projectTarget() : await anchorTarget();
  const before = rssAfterGc();
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", new URL(import.meta.url).pathname, "client", String(target.port), String(n)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const out = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const lines = out[Symbol.asyncIterator]();
  await lines.next(); // "opened"
  const deadline = Date.now() + 120_000;
  while (target.openStreams() < n && Date.now() < deadline) await sleep(100);
  await sleep(1000);
  const rss = rssAfterGc();
  const sent: Record<string, number> = {};
  for (let i = 0; i < EVENTS; i++) {
    const id = await target.emit();
    sent[id] = now();
    await sleep(1000 / RATE);
  }
  await sleep(2000);
  child.stdin?.write(`${JSON.stringify(sent)}\n`);
  const result = JSON.parse(String((await lines.next()).value)) as {
    p50: number;
    p99: number;
    max: number;
    missing: number;
  };
  await target.close();
  return { ...result, perWatcherKiB: (rss - before) / n / 1024 };
}

async function main(): Promise<void> {
  if (process.argv[2] === "client") return client(Number(process.argv[3]), Number(process.argv[4]));
  if (!(globalThis as { gc?: unknown }).gc)
    console.warn("run with --expose-gc for meaningful memory figures");
  const rows: string[] = [];
  for (const n of SIZES) {
    const anchor = await round("anchor", n);
    const project = await round("project", n);
    const f = (x: number) => x.toFixed(1);
    rows.push(
      `| ${n} | ${f(anchor.p50)} / ${f(anchor.p99)} | ${f(project.p50)} / ${f(project.p99)} | ${f(project.p99 / anchor.p99)}x | ${f(anchor.perWatcherKiB)} | ${f(project.perWatcherKiB)} | ${project.missing} |`,
    );
    console.log(rows.at(-1));
  }
  const db = process.env.DATABASE_URL ? "PostgreSQL" : "embedded PGlite";
  const md = `# Watchers: N WatchAuthEvents streams on one replica vs bare grpc-js

Measured ${new Date().toISOString()} on ${process.platform}/${process.arch}, Node ${process.versions.node}, ${db}; ${EVENTS} events at ${RATE}/s per round, each committed in its own transaction (project) or written pre-encoded to every stream (anchor). Watchers in a second process; latency from commit (project) / first write call (anchor) to receipt, over every (watcher, event) pair; RSS per watcher = (RSS with N streams − RSS before) / N, after a forced GC. One round each per N, anchor first.

| watchers | anchor p50 / p99 (ms) | project p50 / p99 (ms) | p99 ratio | anchor KiB/watcher | project KiB/watcher | events missed |
|---|---|---|---|---|---|---|
${rows.join("\n")}

Goals: p99 ≤ 200 ms and ≤ 1.5× the anchor; ≤ 30 KiB per watcher.
`;
  writeFileSync(new URL("results/watchers.md", import.meta.url), md);
  console.log(md);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
