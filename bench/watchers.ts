/**
 * Benchmark: N watchers on one replica (WatchAuthEvents over the gRPC port) while events are
 * committed at a steady rate, against the anchor: a bare grpc-js server writing one pre-encoded
 * message to N open streams. Per round, three kinds of process: this orchestrator, one server
 * process (project or anchor, fresh each round so its RSS baseline is clean) and several client
 * processes each holding a share of the streams (one Node process cannot read 50,000 messages/s,
 * which made the client the bottleneck at 10,000 watchers). Rounds alternate project and anchor
 * (at least 3 of each per N); every round and the median p99 ratio are reported, in
 * bench/results/watchers.md. Run with `node --expose-gc --import tsx bench/watchers.ts`.
 *
 * Environment: BENCH_WATCHERS (sizes, default 100,1000,10000), BENCH_ROUNDS (per kind, default 3),
 * BENCH_EVENTS (measured events per round, default 20), BENCH_RATE (events/s, default 2),
 * BENCH_SERVER_FLAGS (extra node flags for the server process, e.g. --cpu-prof), DATABASE_URL
 * (PostgreSQL for the project; unset: embedded PGlite).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { createInterface, type Interface } from "node:readline";
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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20);
const WARMUP_EVENTS = 3;
const RATE = Number(process.env.BENCH_RATE ?? 2); // events per second
/** Streams per client process, and at most this many client processes. */
const STREAMS_PER_CLIENT = 1250;
const MAX_CLIENTS = 8;
/** Streams per HTTP/2 connection, as a watcher service would spread them. */
const STREAMS_PER_CHANNEL = 1000;
/** How long a client waits, after the last event was sent, for the messages still in flight. */
const TAIL_WAIT_MS = 30_000;
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

/** Line-oriented JSON between the processes of a round. */
function lines(stream: NodeJS.ReadableStream): { next(): Promise<string>; rl: Interface } {
  const rl = createInterface({ input: stream });
  const it = rl[Symbol.asyncIterator]();
  return {
    rl,
    async next() {
      const r = await it.next();
      if (r.done) throw new Error("the other process exited early");
      return r.value as string;
    },
  };
}

/** One JSON line to the orchestrator; resolves once written (a large line must not be cut by an exit). */
const say = (msg: unknown) =>
  new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(msg)}\n`, () => resolve()));

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

/**
 * Holds `n` streams; records the receive time of every event message; once told which events were
 * sent (and when), waits until each stream has every one of them, at most TAIL_WAIT_MS, and
 * reports the latencies and the messages truly missing.
 */
async function client(port: number, n: number): Promise<void> {
  const Client = grpc.makeGenericClientConstructor({ WatchAuthEvents: method }, "AuthService");
  const channels = Array.from(
    { length: Math.ceil(n / STREAMS_PER_CHANNEL) },
    (_, i) =>
      new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        "grpc.channel_id": `${process.pid}-${i}`,
      } as never),
  );
  const received = new Map<string, number[]>();
  let total = 0;
  let onMessage: (() => void) | undefined;
  let errors = 0;
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${KEY}`);
  const req = Buffer.from([0x0a, APP_ID.length, ...Buffer.from(APP_ID)]); // field 1 (app_id)
  for (let i = 0; i < n; i++) {
    const c = channels[i % channels.length] as unknown as {
      WatchAuthEvents(r: Buffer, m: grpc.Metadata): grpc.ClientReadableStream<Buffer>;
    };
    const call = c.WatchAuthEvents(req, md);
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
      total++;
      onMessage?.();
    });
    call.on("error", () => {
      errors++;
    });
  }
  const input = lines(process.stdin);
  await say({ opened: n });
  const { sent, measured } = JSON.parse(await input.next()) as {
    sent: Record<string, number>;
    measured: string[];
  };
  const expected = Object.keys(sent).length * n;
  if (total < expected)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, TAIL_WAIT_MS);
      onMessage = () => {
        if (total >= expected) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
  const latencies: number[] = [];
  let missing = 0;
  for (const id of measured) {
    const got = received.get(id) ?? [];
    missing += Math.max(0, n - got.length);
    const t0 = sent[id] as number;
    for (const t of got) latencies.push(Math.round((t - t0) * 100) / 100);
  }
  await say({ latencies, missing, errors });
  input.rl.close();
  for (const c of channels) c.close();
}

// ---------------------------------------------------------------- server process
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
      // On PostgreSQL the NOTIFY trigger wakes the hub; the embedded database has no NOTIFY.
      if (!url) app.events.notifyEventsCommitted();
      return id;
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
  };
}

function rssAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc: memory is RSS after a forced GC");
  gc();
  gc();
  return process.memoryUsage().rss;
}

/** One round's server: told the number of streams to expect, it emits the events and reports. */
async function server(kind: "project" | "anchor"): Promise<void> {
  const target = kind === "project" ? await projectTarget() : await anchorTarget();
  await sleep(500);
  const before = rssAfterGc();
  await say({ port: target.port });
  const input = lines(process.stdin);
  const n = Number(await input.next());
  const deadline = Date.now() + 180_000;
  while (target.openStreams() < n) {
    if (Date.now() > deadline) throw new Error(`only ${target.openStreams()} of ${n} streams opened`);
    await sleep(100);
  }
  await sleep(1000);
  const rss = rssAfterGc();
  const sent: Record<string, number> = {};
  const measured: string[] = [];
  for (let i = 0; i < WARMUP_EVENTS + EVENTS; i++) {
    const started = now();
    const id = await target.emit();
    sent[id] = now();
    if (i >= WARMUP_EVENTS) measured.push(id);
    await sleep(Math.max(0, 1000 / RATE - (now() - started)));
  }
  await say({ sent, measured, rssPerWatcher: (rss - before) / n });
  await input.next(); // "exit", once the clients reported
  process.exit(0);
}

// ---------------------------------------------------------------- orchestrator
interface RoundResult {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly missing: number;
  readonly errors: number;
  readonly kibPerWatcher: number;
}

function child(
  args: string[],
  nodeFlags: string[] = [],
): { proc: ChildProcess; out: ReturnType<typeof lines>; exited: Promise<unknown> } {
  const proc = spawn(
    process.execPath,
    [...nodeFlags, "--import", "tsx", new URL(import.meta.url).pathname, ...args],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  // Listened for from the start: a client exits as soon as it has reported, often before the
  // orchestrator gets to wait for it, and a missed "exit" left the run to end silently mid-way.
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  return { proc, out: lines(proc.stdout as NodeJS.ReadableStream), exited };
}

async function round(kind: "project" | "anchor", n: number): Promise<RoundResult> {
  const extra = (process.env.BENCH_SERVER_FLAGS ?? "").split(" ").filter(Boolean);
  const srv = child(["server", kind], ["--expose-gc", ...extra]);
  const { port } = JSON.parse(await srv.out.next()) as { port: number };
  const k = Math.min(MAX_CLIENTS, Math.ceil(n / STREAMS_PER_CLIENT));
  const shares = Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
  const clients = shares.map((share) => child(["client", String(port), String(share)]));
  await Promise.all(clients.map((c) => c.out.next())); // "opened" (calls started)
  srv.proc.stdin?.write(`${n}\n`);
  const emitted = JSON.parse(await srv.out.next()) as {
    sent: Record<string, number>;
    measured: string[];
    rssPerWatcher: number;
  };
  const line = `${JSON.stringify({ sent: emitted.sent, measured: emitted.measured })}\n`;
  for (const c of clients) c.proc.stdin?.write(line);
  const reports = await Promise.all(
    clients.map(
      async (c) => JSON.parse(await c.out.next()) as { latencies: number[]; missing: number; errors: number },
    ),
  );
  srv.proc.stdin?.write("exit\n");
  await Promise.all([srv, ...clients].map((c) => c.exited));
  const lat = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
  return {
    p50: pct(0.5),
    p99: pct(0.99),
    max: lat.at(-1) ?? Number.NaN,
    missing: reports.reduce((s, r) => s + r.missing, 0),
    errors: reports.reduce((s, r) => s + r.errors, 0),
    kibPerWatcher: emitted.rssPerWatcher / 1024,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const f1 = (x: number) => x.toFixed(1);

async function main(): Promise<void> {
  const role = process.argv[2];
  if (role === "client") return client(Number(process.argv[3]), Number(process.argv[4]));
  if (role === "server") return server(process.argv[3] as "project" | "anchor");
  // Every wait here is on a child process: a loop left with nothing to wait for is a lost child.
  process.once("beforeExit", () => {
    console.error("bench: a child process ended without answering; no results written");
    process.exitCode = 1;
  });
  const started = new Date();
  const load = loadavg().map((l) => l.toFixed(2));
  const roundRows: string[] = [];
  const summary: string[] = [];
  for (const n of SIZES) {
    const pairs: { anchor: RoundResult; project: RoundResult }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which goes first, so a drift in the machine's load does not favour one side.
      const order: ("anchor" | "project")[] = r % 2 === 0 ? ["anchor", "project"] : ["project", "anchor"];
      const got: Partial<Record<"anchor" | "project", RoundResult>> = {};
      for (const kind of order) {
        got[kind] = await round(kind, n);
        const g = got[kind] as RoundResult;
        roundRows.push(
          `| ${n} | ${r + 1} | ${kind} | ${f1(g.p50)} | ${f1(g.p99)} | ${f1(g.max)} | ${f1(g.kibPerWatcher)} | ${g.missing} | ${g.errors} | ${loadavg()[0]?.toFixed(2)} |`,
        );
        console.error(roundRows.at(-1));
      }
      pairs.push(got as { anchor: RoundResult; project: RoundResult });
    }
    const ratios = pairs.map((p) => p.project.p99 / p.anchor.p99);
    const m = (sel: (p: { anchor: RoundResult; project: RoundResult }) => number) => median(pairs.map(sel));
    summary.push(
      `| ${n} | ${f1(m((p) => p.anchor.p50))} / ${f1(m((p) => p.anchor.p99))} | ${f1(m((p) => p.project.p50))} / ${f1(m((p) => p.project.p99))} | ${ratios.map((x) => `${x.toFixed(2)}x`).join(", ")} | **${median(ratios).toFixed(2)}x** | ${f1(m((p) => p.anchor.kibPerWatcher))} | ${f1(m((p) => p.project.kibPerWatcher))} | ${pairs.reduce((s, p) => s + p.project.missing, 0)} |`,
    );
    console.error(summary.at(-1));
  }
  const db = process.env.DATABASE_URL ? "PostgreSQL" : "embedded PGlite";
  const md = `# Watchers: N WatchAuthEvents streams on one replica vs bare grpc-js

Measured ${started.toISOString()} on ${process.platform}/${process.arch} (${cpus().length} cores, shared), Node ${process.versions.node}, ${db}; load average at start ${load.join(" / ")} (1/5/15 min).

Method: per round a fresh server process (project: the whole app, events committed one per transaction; anchor: bare grpc-js writing one pre-encoded message to every stream) and ${MAX_CLIENTS > 1 ? `up to ${MAX_CLIENTS}` : "one"} client processes holding ${STREAMS_PER_CLIENT} streams each at most (${STREAMS_PER_CHANNEL} streams per HTTP/2 connection). ${WARMUP_EVENTS} warm-up events, then ${EVENTS} measured events at ${RATE}/s. Latency from commit returning (project) / the first write call (anchor) to receipt in the client, over every (watcher, measured event) pair, percentiles from the sorted raw latencies. Each client waits for every expected message, at most ${TAIL_WAIT_MS / 1000} s after the last event was sent; "missing" counts messages still not received then. Memory: (server RSS with N streams open − RSS before any stream), after a forced GC, / N. ${ROUNDS} rounds of each kind per N, alternating which runs first.

## Summary (medians over the rounds)

| watchers | anchor p50 / p99 (ms) | project p50 / p99 (ms) | p99 ratio per round | median p99 ratio | anchor KiB/watcher | project KiB/watcher | project messages missing |
|---|---|---|---|---|---|---|---|
${summary.join("\n")}

Goals: project p99 ≤ 200 ms and ≤ 1.5× the anchor; ≤ 30 KiB per watcher.

## Every round

| watchers | round | kind | p50 (ms) | p99 (ms) | max (ms) | KiB/watcher | missing | stream errors | load (1 min) after |
|---|---|---|---|---|---|---|---|---|---|
${roundRows.join("\n")}
`;
  const outFile = process.env.BENCH_OUT ?? "results/watchers.md";
  writeFileSync(new URL(outFile, import.meta.url), md);
  console.log(md);
}

main().then(
  () => {
    if (process.argv[2] !== "server") process.exit(0);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
