import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { jsonOf, requestFromQuery, WATCH_METHOD as WATCH, type WatchResponse } from "../events/wire.js";
import { newCallContext } from "../rpc/call-context.js";
import { clientCancelled, shuttingDown, toErrorAnswer } from "../rpc/errors.js";
import { isStream, type Next } from "../rpc/pipeline.js";
import type { ShutdownSignals } from "../shutdown.js";
import type { Logger } from "../telemetry/logger.js";
import { refuseUpgrade } from "./upgrade-refusal.js";

/** The path of the events WebSocket on the HTTP port. */
export const EVENTS_WS_PATH = "/v1/auth-events";
/**
 * The subprotocol the server selects when offered. A client that offers subprotocols must offer
 * this one (an upgrade offering only others is refused 400: RFC 6455 would have the client fail
 * on a 101 that selects none); a client offering none, with the key in a header, needs none.
 */
export const EVENTS_WS_PROTOCOL = "lark-auth.v1";
/** Browsers cannot set headers: they offer `lark-auth.bearer.<caller key>` as a second subprotocol. */
export const BEARER_PROTOCOL_PREFIX = "lark-auth.bearer.";
/** Close codes for errors are 4000 + the gRPC status code; the reason is the ErrorInfo reason. */
export const CLOSE_CODE_BASE = 4000;

export interface EventsWebSocketDeps {
  /** The same interceptors and handler as both RPC transports. */
  readonly pipeline: Next;
  readonly logger: Logger;
  readonly signals: ShutdownSignals;
  /** A ping this often; a socket that has not answered the previous one is closed (default 30 s). */
  readonly pingIntervalMs?: number;
}

export interface EventsWebSocket {
  /** Serves an upgrade request for EVENTS_WS_PATH; false (socket untouched) for any other path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): void;
}

/** Above this many unsent bytes, the next message waits for the socket (and the watcher's bound applies). */
const HIGH_WATER_BYTES = 256 * 1024;

/** The subprotocols the client offered (none: an empty list). */
function offeredProtocols(req: IncomingMessage): string[] {
  const header = req.headers["sec-websocket-protocol"];
  return header === undefined ? [] : header.split(",").map((p) => p.trim());
}

/** The caller key from the header, else from the `lark-auth.bearer.<key>` subprotocol. */
function authorizationOf(req: IncomingMessage): string | undefined {
  if (req.headers.authorization !== undefined) return req.headers.authorization;
  const offered = offeredProtocols(req);
  const key = offered.find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX))?.slice(BEARER_PROTOCOL_PREFIX.length);
  return key === undefined ? undefined : `Bearer ${key}`;
}

/**
 * Sends `text`; past the high-water mark, resolves once it was written or `ended` aborts (the
 * watch failed meanwhile, e.g. too slow: its reason must reach the socket, behind the queued data,
 * and not wait for a reader that may never come).
 */
function send(ws: WebSocket, text: string, ended: AbortSignal): Promise<void> | undefined {
  if (ws.bufferedAmount < HIGH_WATER_BYTES || ended.aborted) {
    ws.send(text);
    return undefined;
  }
  return new Promise((resolve) => {
    const done = () => {
      ended.removeEventListener("abort", done);
      resolve();
    };
    ended.addEventListener("abort", done, { once: true });
    ws.send(text, done);
  });
}

/** Streams one watch to one socket and closes it with a code and reason, whatever ends it. */
async function serve(deps: EventsWebSocketDeps, ws: WebSocket, req: IncomingMessage): Promise<void> {
  const closed = new AbortController();
  // The socket closing is the client leaving, as a cancelled RPC is (the watch ends CANCELLED).
  ws.once("close", () => closed.abort(clientCancelled()));
  const ended = new AbortController();
  const header = (name: string) => {
    if (name === "authorization") return authorizationOf(req);
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const source = {
    header,
    signals: () => [closed.signal, deps.signals.shutdown],
    transport: "websocket" as const,
    streamEnded: (err: Error | undefined) => {
      if (err) ended.abort(err);
    },
  };
  const ctx = newCallContext({ method: WATCH, source, logger: deps.logger });
  try {
    const request = requestFromQuery(new URL(req.url ?? "/", "http://localhost").searchParams);
    const result = deps.pipeline({ method: WATCH, request, ctx });
    if (!isStream(result)) throw new Error("WatchAuthEvents returned a single answer");
    for await (const msg of result as AsyncIterable<WatchResponse>) {
      if (closed.signal.aborted) return;
      // After a wait cut short by the watch failing, the next read throws its error: closed below.
      await send(ws, jsonOf(msg), ended.signal);
    }
    if (deps.signals.shutdown.aborted) throw shuttingDown();
    if (!closed.signal.aborted) ws.close(1000, "END");
  } catch (err) {
    if (closed.signal.aborted) return;
    const answer = toErrorAnswer(err);
    if (answer.reason === "INTERNAL") deps.logger.error({ err }, "events websocket failed");
    ws.close(CLOSE_CODE_BASE + answer.code, answer.reason);
  }
}

/**
 * The events WebSocket: the WatchAuthEvents stream as protobuf-JSON text messages, through the
 * same interceptor chain (caller key, validation, permission) as the RPC transports. One ping
 * timer serves every socket; a socket that missed a pong is closed (4004 PING_TIMEOUT), then cut.
 */
export function createEventsWebSocket(deps: EventsWebSocketDeps): EventsWebSocket {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 4096, // Clients send nothing but control frames.
    perMessageDeflate: false, // Per-socket zlib state would cost more memory than the watcher itself.
    // Only called when protocols were offered, and handleUpgrade refused those without ours.
    handleProtocols: () => EVENTS_WS_PROTOCOL,
  });
  const alive = new WeakSet<WebSocket>();
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      // A closing socket has its close frame queued behind unread data; ws's own close timeout
      // (30 s) cuts it if the client never reads, and cutting it sooner would drop that frame.
      if (ws.readyState !== ws.OPEN) continue;
      if (!alive.has(ws)) {
        ws.close(CLOSE_CODE_BASE + 4, "PING_TIMEOUT");
        setTimeout(() => ws.terminate(), 1000).unref();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, deps.pingIntervalMs ?? 30_000).unref();
  return {
    handleUpgrade(req, socket, head) {
      if ((req.url ?? "").split("?")[0] !== EVENTS_WS_PATH) return false;
      const offered = offeredProtocols(req);
      if (offered.length > 0 && !offered.includes(EVENTS_WS_PROTOCOL)) {
        refuseUpgrade(
          socket,
          400,
          `offer the subprotocol ${EVENTS_WS_PROTOCOL} (with lark-auth.bearer.<key> in browsers)\n`,
        );
        return true;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        alive.add(ws);
        ws.on("pong", () => alive.add(ws));
        ws.on("error", (err) => deps.logger.debug({ err }, "events websocket error"));
        void serve(deps, ws, req);
      });
      return true;
    },
    close() {
      clearInterval(timer);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
