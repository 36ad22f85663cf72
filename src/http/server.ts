import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Registry } from "prom-client";
import { MAX_REQUEST_BYTES } from "../rpc/pipeline.js";
import type { ShutdownSignals } from "../shutdown.js";
import type { Logger } from "../telemetry/logger.js";

/** What the HTTP/1.1 port needs: Connect routes, readiness, metrics. */
export interface HttpServerDeps {
  readonly routes: (router: ConnectRouter) => void;
  readonly ready: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  readonly metrics: Registry;
  readonly logger: Logger;
  readonly signals: ShutdownSignals;
  /** More GET routes (the OAuth pages); a key ending in `/` serves every path below it. */
  readonly pages?: Readonly<Record<string, Route>>;
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
 * alive), `/readyz` (the database is reachable and migrated), `/metrics` (Prometheus).
 */
export function createHttpServer(deps: HttpServerDeps): Server {
  const connect = connectNodeAdapter({
    routes: deps.routes,
    // The gRPC port's limit: without it connect-node reads bodies of up to 4 GiB before any check.
    readMaxBytes: MAX_REQUEST_BYTES,
    // connect-node aborts every handler's signal on this one: unary calls get the whole grace period.
    shutdownSignal: deps.signals.graceExpired,
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
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = req.method === "GET" ? (routes[path] ?? pageFor(deps.pages ?? {}, path)) : undefined;
    const handle = route ?? connect;
    Promise.resolve(handle(req, res)).catch((err: unknown) => {
      deps.logger.error({ err, path }, "http handler failed");
      if (!res.headersSent) json(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  closeDrainedConnections(server, deps.signals.shutdown);
  return server;
}

/**
 * Once shutdown starts, closes each keep-alive connection as soon as its last call has drained:
 * otherwise an idle socket would hold `server.close()` open until `keepAliveTimeout` (5 s).
 */
function closeDrainedConnections(server: Server, shutdown: AbortSignal): void {
  shutdown.addEventListener(
    "abort",
    () => {
      const timer = setInterval(() => server.closeIdleConnections(), 50).unref();
      server.once("close", () => clearInterval(timer));
    },
    { once: true },
  );
}
