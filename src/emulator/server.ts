import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CoreOptions, EmulatorCore } from "./core.js";
import { createCore } from "./core.js";
import { createPipeline } from "./http/pipeline.js";
import { buildRouter } from "./routes.js";

export interface ServerOptions extends Omit<CoreOptions, "baseUrl"> {
  port?: number;
  /** Interface to bind; loopback by default so nothing outside the machine can reach it. */
  host?: string;
  /** Base URL handed out in verification URIs and the WebSocket URL; defaults to the bound address. */
  publicUrl?: string;
}

export interface EmulatorServer {
  core: EmulatorCore;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the HTTP server (Open Platform, control API, pages) with the long-connection upgrade on `/ws`. */
export async function startServer(opts: ServerOptions): Promise<EmulatorServer> {
  const host = opts.host ?? "127.0.0.1";
  let baseUrl = opts.publicUrl?.replace(/\/+$/, "") ?? "";
  const core = createCore({ ...opts, baseUrl: () => baseUrl });
  const closing = new AbortController();
  const handle = createPipeline(core, buildRouter(core), closing.signal);
  // Like Lark's own servers, answers a plain request as HTTP/1.1 whatever upgrade it offers (Java's
  // HttpClient offers h2c on every one); only WebSocket upgrades reach the upgrade handler.
  const server = createServer(
    { shouldUpgradeCallback: (req) => req.headers.upgrade?.toLowerCase() === "websocket" },
    (req, res) => void handle(req, res),
  );
  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://emulator").pathname;
    if (path === "/ws") core.hub.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await listen(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  baseUrl ||= url;
  return { core, url, port, close: () => shutdown(server, core, closing) };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Stops accepting, ends long connections and in-flight (held or delayed) requests, then resolves. */
async function shutdown(server: Server, core: EmulatorCore, closing: AbortController): Promise<void> {
  closing.abort();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await core.hub.close();
  server.closeAllConnections();
  await closed;
}
