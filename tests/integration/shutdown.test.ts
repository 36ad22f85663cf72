import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { create, type DescMethod } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  AuthService,
  file_lark_auth_v1_auth_service,
  type GetAuthSessionRequest,
  GetAuthSessionResponseSchema,
  WatchAuthEventsResponseSchema,
} from "../../gen/lark/auth/v1/auth_service_pb.js";
import { createHttpServer, type HttpLimits } from "../../src/http/server.js";
import { addConnectService } from "../../src/rpc/connect-mount.js";
import type { CallContext } from "../../src/rpc/context.js";
import { createGrpcServer, type GrpcLimits } from "../../src/rpc/grpc-server.js";
import { createPipeline, type ServiceHandlers } from "../../src/rpc/pipeline.js";
import { createShutdownController } from "../../src/shutdown.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { type HealthStatus, healthClient } from "../support/grpc-health.js";
import { canBind, until } from "../support/net.js";
import { startTestApp } from "../support/test-app.js";

/** How long the test unary handler takes for each session id it is asked about. */
const SLOW_MS = 300;
const STUCK_MS = 20_000;

/**
 * The real grpc-js and connect-node servers, mounted exactly as app.ts mounts them, around
 * a pipeline of test handlers: a slow unary (GetAuthSession) and a stream (WatchAuthEvents)
 * that sends one bookmark then waits for its call to end. `close` is app.ts's sequence (src/shutdown.ts).
 */
async function startServers(graceMs: number, limits: { http?: HttpLimits; grpc?: GrpcLimits } = {}) {
  const stopping = createShutdownController(graceMs);
  const logger = createLogger({ level: "silent" });
  let inFlight = 0;
  let streamSignalled = false;
  const handlers = new Map<DescMethod, ServiceHandlers[string]>([
    [
      AuthService.method.getAuthSession,
      async (req: GetAuthSessionRequest, ctx: CallContext) => {
        inFlight += 1;
        try {
          // Honours ctx.signal, as handlers calling Lark will: a unary call must not be aborted
          // when shutdown starts, only when the grace period is over.
          await delay(req.sessionId === "stuck" ? STUCK_MS : SLOW_MS, undefined, { signal: ctx.signal });
          return create(GetAuthSessionResponseSchema, { session: { sessionId: req.sessionId } });
        } finally {
          inFlight -= 1;
        }
      },
    ],
    [
      AuthService.method.watchAuthEvents,
      async function* (_req: unknown, ctx: CallContext) {
        inFlight += 1;
        try {
          yield create(WatchAuthEventsResponseSchema, {
            kind: { case: "bookmark", value: { eventId: "1", time: timestampNow() } },
          });
          await new Promise<void>((resolve) => {
            if (ctx.signal.aborted) resolve();
            ctx.signal.addEventListener("abort", () => resolve(), { once: true });
          });
          streamSignalled = true;
        } finally {
          inFlight -= 1;
        }
      },
    ],
  ]);
  const mount = { pipeline: createPipeline(handlers, []), logger, signals: stopping };
  const grpc = createGrpcServer([AuthService], [file_lark_auth_v1_auth_service], mount, limits.grpc);
  const http: Server = createHttpServer({
    routes: (router) => addConnectService(router, AuthService, mount),
    ready: async () => ({ ready: true, checks: {} }),
    metrics: new Registry(),
    logger,
    signals: stopping,
    limits: limits.http,
  });
  const grpcPort = await grpc.listen("127.0.0.1", 0);
  const httpPort = await new Promise<number>((resolve) =>
    http.listen(0, "127.0.0.1", () => resolve((http.address() as AddressInfo).port)),
  );
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= stopping.drain(grpc, http);
    return closing;
  };
  return {
    grpcPort,
    httpPort,
    grpcUrl: `http://127.0.0.1:${grpcPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    inFlight: () => inFlight,
    streamSignalled: () => streamSignalled,
    close,
  };
}

type Servers = Awaited<ReturnType<typeof startServers>>;

/** What became of a call: its answer or the error it ended with. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: ConnectError };

function settle<T>(p: Promise<T>): Promise<Outcome<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, error: ConnectError.from(err) }),
  );
}

/** Opens WatchAuthEvents, waits for its first message, and returns how the rest of it ends. */
async function openStream(transport: Transport) {
  const controller = new AbortController();
  const stream = createClient(AuthService, transport).watchAuthEvents({}, { signal: controller.signal });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  expect(first.done).toBe(false);
  expect(first.value?.kind.case).toBe("bookmark");
  const rest = settle(
    (async () => {
      let more = 0;
      for (let r = await it.next(); !r.done; r = await it.next()) more += 1;
      return more;
    })(),
  );
  return { rest, cancel: () => controller.abort() };
}

const reasonOf = (err: ConnectError) => err.findDetails(ErrorInfoSchema)[0]?.reason;

describe("graceful shutdown of the servers built from src/rpc and src/http", () => {
  let servers: Servers | undefined;
  const cleanups: (() => void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) c();
    await servers?.close();
    servers = undefined;
  });

  it("grpc-js: drains the unary call, ends the stream with UNAVAILABLE/SHUTTING_DOWN, refuses new calls, flips health", async () => {
    servers = await startServers(5_000);
    const s = servers;
    const transport = createGrpcTransport({ baseUrl: s.grpcUrl });
    const auth = createClient(AuthService, transport);
    const health = healthClient(`127.0.0.1:${s.grpcPort}`);
    cleanups.push(() => health.close());
    expect(await health.check()).toBe("SERVING");
    expect(await health.check(AuthService.typeName)).toBe("SERVING");
    const statuses: HealthStatus[] = [];
    const watch = health.watch("", statuses);
    cleanups.push(() => watch.cancel());
    await until(() => statuses.length > 0, 5_000, "the first health status");

    const stream = await openStream(transport);
    const unary = settle(auth.getAuthSession({ sessionId: "slow" }));
    await until(() => s.inFlight() === 2, 5_000, "both calls to reach their handlers");

    const closed = s.close();
    await until(() => statuses.includes("NOT_SERVING"), 5_000, "health to report NOT_SERVING");
    expect(statuses).toEqual(["SERVING", "NOT_SERVING"]);
    watch.cancel(); // A watch is an open call too; a real balancer drops it once it reads NOT_SERVING.

    const refused = await settle(
      createClient(AuthService, createGrpcTransport({ baseUrl: s.grpcUrl })).getAuthSession({
        sessionId: "late",
      }),
    );
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe(Code.Unavailable);

    const answered = await unary;
    expect(answered.ok && answered.value.session?.sessionId).toBe("slow");

    const ended = await stream.rest;
    expect(s.streamSignalled()).toBe(true);
    expect(ended.ok).toBe(false);
    if (!ended.ok) {
      expect(ended.error.code).toBe(Code.Unavailable);
      expect(reasonOf(ended.error)).toBe("SHUTTING_DOWN");
    }
    await closed;
    expect(s.inFlight()).toBe(0);
    expect(await canBind(s.grpcPort)).toBe(true);
  });

  it("connect-node: drains the unary call, ends the stream with UNAVAILABLE/SHUTTING_DOWN, refuses new calls", async () => {
    servers = await startServers(5_000);
    const s = servers;
    const transport = createConnectTransport({ baseUrl: s.httpUrl, httpVersion: "1.1" });
    const auth = createClient(AuthService, transport);

    const stream = await openStream(transport);
    const unary = settle(auth.getAuthSession({ sessionId: "slow" }));
    await until(() => s.inFlight() === 2, 5_000, "both calls to reach their handlers");

    const closed = s.close();
    await until(() => s.streamSignalled(), 5_000, "the stream handler to see the shutdown");
    const refused = await settle(
      createClient(
        AuthService,
        createConnectTransport({ baseUrl: s.httpUrl, httpVersion: "1.1" }),
      ).getAuthSession({ sessionId: "late" }),
    );
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.code).toBe(Code.Unavailable);

    const answered = await unary;
    expect(answered.ok && answered.value.session?.sessionId).toBe("slow");
    const ended = await stream.rest;
    expect(ended.ok).toBe(false);
    if (!ended.ok) {
      expect(ended.error.code).toBe(Code.Unavailable);
      expect(reasonOf(ended.error)).toBe("SHUTTING_DOWN");
    }
    // Resolves once the calls have drained, not after the keep-alive timeout (5 s) or the grace period.
    const drained = Date.now();
    await closed;
    expect(Date.now() - drained).toBeLessThan(3_000);
    expect(s.inFlight()).toBe(0);
    expect(await canBind(s.httpPort)).toBe(true);
  });

  it("cancels a call that outlives the grace period, on both transports", async () => {
    servers = await startServers(500);
    const s = servers;
    const calls = [
      createClient(AuthService, createGrpcTransport({ baseUrl: s.grpcUrl })),
      createClient(AuthService, createConnectTransport({ baseUrl: s.httpUrl, httpVersion: "1.1" })),
    ].map((auth) => settle(auth.getAuthSession({ sessionId: "stuck" })));
    await until(() => s.inFlight() === 2, 5_000, "both calls to reach their handlers");
    const started = Date.now();
    await s.close();
    // Far below STUCK_MS: shutdown did not wait for the stuck handlers.
    expect(Date.now() - started).toBeLessThan(STUCK_MS / 2);
    // Cut at the deadline, each call still gets a status a client can act on: retry elsewhere.
    for (const outcome of await Promise.all(calls)) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) {
        expect(outcome.error.code).toBe(Code.Unavailable);
        expect(reasonOf(outcome.error)).toBe("SHUTTING_DOWN");
      }
    }
    expect(await canBind(s.grpcPort)).toBe(true);
    expect(await canBind(s.httpPort)).toBe(true);
  });
});

describe("shutdown and idle connections on the HTTP port, below any client library", () => {
  let servers: Servers | undefined;
  afterEach(async () => {
    await servers?.close();
    servers = undefined;
  });

  it("answers every Connect request that reached the port before shutdown: none is reset", async () => {
    servers = await startServers(5_000);
    const s = servers;
    // The caller is another process, so its requests reach the kernel while this one is busy,
    // as they do when SIGTERM arrives under load: accepted by the kernel, not yet by Node.
    const sent = join(mkdtempSync(join(tmpdir(), "lark-auth-sent-")), "sent");
    const child = spawn(process.execPath, ["-e", CALLER, String(s.httpPort), sent], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = createInterface({ input: child.stdout });
    const next = () => new Promise<string>((resolve) => lines.once("line", resolve));
    expect(await next()).toBe("ready");
    child.stdin.write("go\n");
    // Blocks the event loop until every request has left the caller (the caller marks it in a
    // file, readable without the event loop), so all of them wait in the kernel's queues.
    const giveUp = Date.now() + 10_000;
    while (!existsSync(sent) && Date.now() < giveUp) {
      // Busy: nothing of this process runs meanwhile.
    }
    expect(existsSync(sent)).toBe(true);
    rmSync(dirname(sent), { recursive: true, force: true });
    const closed = s.close();
    const outcomes = JSON.parse(await next()) as string[];
    // Each was answered: its result or a status it can act on (503: UNAVAILABLE), never a reset.
    expect(outcomes).toHaveLength(25);
    for (const o of outcomes) expect(o).toMatch(/^(200|503)$/);
    await closed;
  });

  it("closes sockets that send nothing or half a request, on both ports, within the configured bounds", async () => {
    servers = await startServers(5_000, {
      http: { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 400, idleTimeoutMs: 1_000 },
      grpc: { keepaliveTimeMs: 300, keepaliveTimeoutMs: 300, maxConnectionIdleMs: 500 },
    });
    const s = servers;
    const sockets = [
      await openSocket(s.httpPort, ""),
      await openSocket(s.httpPort, "POST /lark.auth.v1.AuthService/GetAuthSession HTTP/1.1\r\nHost: x\r\n"),
      await openSocket(
        s.httpPort,
        "POST /lark.auth.v1.AuthService/GetAuthSession HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
      ),
      await openSocket(s.grpcPort, ""),
      await openSocket(s.grpcPort, "PRI * HTTP/2.0\r\n"),
    ];
    const started = Date.now();
    await until(() => sockets.every((x) => x.closed()), 8_000, "every idle or half-open socket to be closed");
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});

/** A caller process: on "go", 25 Connect calls, each on a new connection; prints their statuses. */
const CALLER = `
const http = require("node:http");
const fs = require("node:fs");
const port = Number(process.argv[1]);
let flushed = 0;
const body = JSON.stringify({ sessionId: "late" });
const call = () => new Promise((resolve) => {
  const req = http.request({ host: "127.0.0.1", port, agent: false, method: "POST",
    path: "/lark.auth.v1.AuthService/GetAuthSession",
    headers: { "content-type": "application/json", "content-length": body.length } },
    (res) => { res.resume(); res.on("end", () => resolve(String(res.statusCode))); });
  req.on("error", (e) => resolve(e.code || e.message));
  req.on("finish", () => { if (++flushed === 25) fs.writeFileSync(process.argv[2], "sent"); });
  req.end(body);
});
process.stdin.once("data", async () => {
  const calls = Array.from({ length: 25 }, call);
  console.log(JSON.stringify(await Promise.all(calls)));
  process.exit(0);
});
console.log("ready");
`;

/** Connects to `port`, writes `text` and never anything more. */
async function openSocket(port: number, text: string) {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let closed = false;
  socket.on("error", () => {});
  socket.on("close", () => {
    closed = true;
  });
  socket.on("data", () => {});
  if (text) socket.write(text);
  return { closed: () => closed };
}

describe("graceful shutdown of the whole app (buildApp)", () => {
  it("close() resolves, is idempotent and releases both ports", async () => {
    const t = await startTestApp();
    const { grpcPort, httpPort } = t.app;
    await t.clients().auth.listAuthSessions({ appId: "cli_0123456789abcdef" });
    expect(await canBind(grpcPort)).toBe(false);
    expect(await canBind(httpPort)).toBe(false);
    const first = t.app.close();
    expect(t.app.close()).toBe(first);
    await first;
    await t.close();
    expect(await canBind(grpcPort)).toBe(true);
    expect(await canBind(httpPort)).toBe(true);
    expect(t.logs.records().some((r) => r.msg === "stopped")).toBe(true);
  });
});
