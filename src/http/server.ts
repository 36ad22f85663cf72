import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { compressionGzip, connectNodeAdapter } from "@connectrpc/connect-node";
import type { Registry } from "prom-client";
import { MAX_REQUEST_BYTES } from "../rpc/pipeline.js";
import type { ShutdownSignals } from "../shutdown.js";
import type { Logger } from "../telemetry/logger.js";
import type { RefusedMetrics } from "../telemetry/metrics.js";
import { refuseUpgrade } from "./upgrade-refusal.js";

/**
 * How long a connection may hold the HTTP port without progress, in milliseconds. Bounded so
 * that sockets which send nothing, or half a request, cannot pile up (Node's defaults let an
 * idle socket live forever and give a request five minutes).
 */
export interface HttpLimits {
  /** From connection (or the previous response) until the request's headers are complete. */
  readonly headersTimeoutMs: number;
  /** Until the whole request (headers and body) has arrived; responses may stream longer. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive connection between requests. */
  readonly keepAliveTimeoutMs: number;
  /** Any socket with no traffic either way; streams stay alive through their own heartbeats. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
};

/** What the HTTP/1.1 port needs: Connect routes, readiness, metrics. */
export interface HttpServerDeps {
  readonly limits?: HttpLimits;
  readonly routes: (router: ConnectRouter) => void;
  readonly ready: () => Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  readonly metrics: Registry;
  readonly logger: Logger;
  readonly signals: ShutdownSignals;
  /** connect-node's request gate: checks run on headers before the body is read. */
  readonly requestGate?: (context: HandlerContext) => void;
  readonly refused?: RefusedMetrics;
  /** Serves a WebSocket upgrade (the events WebSocket); false when the path is not its own. */
  readonly upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** More GET routes (the OAuth pages); a key ending in `/` serves every path below it. */
  readonly pages?: Readonly<Record<string, Route>>;
  /** POST routes by exact path that are not Connect's (the Lark webhook). */
  readonly posts?: Readonly<Record<string, Route>>;
}

export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** The page for `path`: an exact key first, then the longest `/`-terminated key it starts with. */
function pageFor(pages: Readonly<Record<string, Route>>, path: string): Route | undefined {
  if (pages[path]) return pages[path];
  const prefix = Object.keys(pages)
    .filter((k) => k.endsWith("/") && path.startsWith(k) && path.length > k.length)
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? undefined : pages[prefix];
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/**
 * The HTTP/1.1 side: Connect and gRPC-Web for both services, `/healthz` (the process is
 * alive), `/readyz` (the database is reachable and migrated; Lark's state as details), `/metrics`
 * (Prometheus), and the POST routes given (the Lark webhook).
 */
export function createHttpServer(deps: HttpServerDeps): Server {
  const connect = connectNodeAdapter({
    routes: deps.routes,
    // The gRPC port's limit: without it connect-node reads bodies of up to 4 GiB before any check.
    readMaxBytes: MAX_REQUEST_BYTES,
    // connect-node aborts every handler's signal on this one: unary calls get the whole grace period.
    shutdownSignal: deps.signals.graceExpired,
    // Headers are checked before any body byte is read; see rpc/connect-gate.ts.
    requestGate: deps.requestGate,
    // What grpc-js accepts too, so both ports refuse the same encodings (br is UNIMPLEMENTED).
    acceptCompression: [compressionGzip],
    // An unknown enum name would otherwise be dropped silently, and a dropped `states` filter lists
    // every session: refuse what we cannot read, as the binary path does (INVALID_ARGUMENT).
    jsonOptions: { ignoreUnknownFields: false },
  });
  const routes: Record<string, Route> = {
    "/healthz": (_req, res) => json(res, 200, { status: "ok" }),
    "/readyz": async (_req, res) => {
      const r = await deps.ready();
      // Shutting down is "not ready" too: balancers must stop sending before the port closes.
      const ready = r.ready && !deps.signals.shutdown.aborted;
      json(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", ...r.checks });
    },
    "/metrics": async (_req, res) => {
      res.writeHead(200, { "content-type": deps.metrics.contentType });
      res.end(await deps.metrics.metrics());
    },
  };
  const unanswered = closeAfterAnswerOnShutdown(deps.signals.shutdown);
  const server = createServer(
    {
      connectionsCheckingInterval: checkingIntervalOf(deps.limits),
      // Only WebSocket upgrades are taken. Other offers (Java's HttpClient offers h2c on every plain
      // request) are answered as HTTP/1.1, as RFC 9110 lets a server ignore an Upgrade.
      shouldUpgradeCallback: (req) => req.headers.upgrade?.toLowerCase() === "websocket",
    },
    (req, res) => {
      unanswered(res);
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const route =
        req.method === "GET"
          ? (routes[path] ?? pageFor(deps.pages ?? {}, path))
          : req.method === "POST"
            ? deps.posts?.[path]
            : undefined;
      const handle = route ?? connect;
      if (!route) countUnsupportedMedia(res, deps.refused);
      Promise.resolve(handle(req, res)).catch((err: unknown) => {
        deps.logger.error({ err, path }, "http handler failed");
        if (!res.headersSent) json(res, 500, { error: "internal error" });
        else res.destroy();
      });
    },
  );
  applyLimits(server, deps.limits ?? DEFAULT_HTTP_LIMITS);
  server.on("upgrade", (req, socket: Duplex, head: Buffer) => {
    if (!deps.upgrade?.(req, socket, head)) refuseUpgrade(socket, 404);
  });
  return server;
}

/** connect-node answers a wrong content type with a bare 415 before any hook of ours runs. */
function countUnsupportedMedia(res: ServerResponse, refused: RefusedMetrics | undefined): void {
  if (!refused) return;
  res.once("finish", () => {
    if (res.statusCode === 415) refused.refused("http", "unsupported_media_type");
  });
}

/**
 * Once shutdown starts, every answer not yet begun closes its connection (`Connection: close`),
 * so keep-alive sockets end after their last answer instead of being cut while a request is on
 * the wire. Returns the per-request hook that tracks answers not yet begun.
 */
function closeAfterAnswerOnShutdown(shutdown: AbortSignal): (res: ServerResponse) => void {
  const pending = new Set<ServerResponse>();
  shutdown.addEventListener(
    "abort",
    () => {
      for (const res of pending) if (!res.headersSent) res.shouldKeepAlive = false;
    },
    { once: true },
  );
  return (res) => {
    if (shutdown.aborted) {
      res.shouldKeepAlive = false;
      return;
    }
    pending.add(res);
    res.once("close", () => pending.delete(res));
  };
}

/** Node checks the request time-outs on this period; its default (30 s) would overrun small bounds. */
function checkingIntervalOf(limits: HttpLimits = DEFAULT_HTTP_LIMITS): number {
  return Math.max(100, Math.min(30_000, Math.floor(limits.headersTimeoutMs / 4)));
}

function applyLimits(server: Server, limits: HttpLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
}
