// Shared set-up for the long-connection conformance tests: a bare node:http server in front of the
// hub (the core emulator wires it the same way) and the real node-sdk WSClient pointed at it.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseQuery } from "node:querystring";
import * as lark from "@larksuiteoapi/node-sdk";
import WebSocket from "ws";
import { decodeFrame, encodeFrame, type Frame, headerValue } from "../../src/emulator/longconn/frame.js";
import { createLongConnectionHub, type HubOptions } from "../../src/emulator/longconn/hub.js";

export const APP_SECRET = "test-app-secret";

/** WSClient refuses app ids that are not `cli_` + 16 hex. */
export function newAppId(): string {
  return `cli_${randomBytes(8).toString("hex")}`;
}

/** Test defaults: pings every second and immediate, one-second reconnects. */
export const FAST_CLIENT_CONFIG = {
  PingInterval: 1,
  ReconnectCount: -1,
  ReconnectInterval: 1,
  ReconnectNonce: 0,
};

export async function startHub(options: Partial<HubOptions> = {}) {
  let port = 0;
  const stats = { bootstraps: 0 };
  const hub = createLongConnectionHub({
    authenticate: (_appId, secret) => secret === APP_SECRET,
    publicWsUrl: () => `ws://127.0.0.1:${port}/ws`,
    clientConfig: FAST_CLIENT_CONFIG,
    ...options,
  });
  const server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/callback/ws/endpoint") {
      res.writeHead(404).end("404 page not found");
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      stats.bootstraps++;
      const { status, json } = hub.handleEndpoint(JSON.parse(Buffer.concat(chunks).toString() || "null"));
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(json));
    });
  });
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://x").pathname === "/ws") hub.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  const close = async () => {
    await hub.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { hub, stats, domain: `http://127.0.0.1:${port}`, close };
}

type Handler = (data: Record<string, unknown>) => unknown;

export type ClientOptions = {
  appId: string;
  appSecret?: string;
  handlers: Record<string, Handler>;
  pingTimeout?: number;
};

/** A real WSClient + EventDispatcher. SDK error logs are collected so tests can assert that no
 * frame was rejected ("failed to handle inbound frame", "failed to merge event fragments"...). */
export function startClient(domain: string, opts: ClientOptions) {
  const errors: string[] = [];
  const events = { ready: 0, reconnecting: 0, reconnected: 0, failures: [] as string[] };
  const logger = {
    error: (...msg: unknown[]) => {
      errors.push(msg.map(String).join(" "));
    },
    warn: () => {},
    info: () => {},
    debug: () => {},
    trace: () => {},
  };
  const dispatcher = new lark.EventDispatcher({ loggerLevel: lark.LoggerLevel.error, logger }).register(
    opts.handlers,
  );
  const client = new lark.WSClient({
    appId: opts.appId,
    appSecret: opts.appSecret ?? APP_SECRET,
    domain,
    loggerLevel: lark.LoggerLevel.error,
    logger,
    onReady: () => events.ready++,
    onError: (err: Error) => events.failures.push(err.message),
    onReconnecting: () => events.reconnecting++,
    onReconnected: () => events.reconnected++,
    ...(opts.pingTimeout ? { wsConfig: { pingTimeout: opts.pingTimeout } } : {}),
  });
  void client.start({ eventDispatcher: dispatcher });
  return { client, errors, events, close: () => client.close({ force: true }) };
}

export async function waitFor(check: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A schema-2.0 `card.action.trigger` envelope as the platform sends it (reference §6.1). */
export function cardActionEvent(appId: string, value: Record<string, unknown>) {
  return {
    schema: "2.0",
    header: {
      event_id: randomBytes(16).toString("hex"),
      token: "verification-token",
      create_time: String(Date.now() * 1000),
      event_type: "card.action.trigger",
      tenant_key: "736588c9260f175e",
      app_id: appId,
    },
    event: {
      operator: { tenant_key: "736588c9260f175e", open_id: "ou_test", union_id: "on_test" },
      token: `c-${randomBytes(12).toString("hex")}`,
      action: { value, tag: "button" },
      host: "im_message",
      context: { open_message_id: "om_test", open_chat_id: "oc_test" },
    },
  };
}

/** A schema-2.0 `im.message.receive_v1` envelope whose text is `text`. */
export function messageEvent(appId: string, text: string) {
  const header = { ...cardActionEvent(appId, {}).header, event_type: "im.message.receive_v1" };
  const message = { message_id: "om_msg", chat_type: "p2p", message_type: "text" };
  return { schema: "2.0", header, event: { message: { ...message, content: JSON.stringify({ text }) } } };
}

/** A hand-driven socket speaking the SDK's wire protocol: bootstrap, connect, one ping (the hub
 * pushes data only after it) and the pong. Then it does only what the test tells it to. */
export async function startRawClient(domain: string, appId: string) {
  const res = await fetch(`${domain}/callback/ws/endpoint`, {
    method: "POST",
    headers: { "Content-Type": "application/json", locale: "zh" },
    body: JSON.stringify({ AppID: appId, AppSecret: APP_SECRET }),
  });
  const url = ((await res.json()) as { data: { URL: string } }).data.URL;
  const serviceId = Number(parseQuery(url).service_id);
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const state = { closed: false };
  ws.on("message", (data: Buffer) => frames.push(decodeFrame(data)));
  ws.on("close", () => {
    state.closed = true;
  });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  const ping = () =>
    ws.send(
      encodeFrame({
        seqId: 0n,
        logId: 0n,
        service: serviceId,
        method: 0,
        headers: [{ key: "type", value: "ping" }],
      }),
    );
  ping();
  await waitFor(() => frames.some((f) => headerValue(f, "type") === "pong"), 2000, "pong");
  /** What the SDK sends back: the pushed frame echoed, payload replaced by `{code, data?}`. */
  const ack = (frame: Frame, code: number, answer?: unknown) => {
    const body =
      answer === undefined
        ? { code }
        : { code, data: Buffer.from(JSON.stringify(answer)).toString("base64") };
    const headers = [...frame.headers, { key: "biz_rt", value: "0" }];
    ws.send(encodeFrame({ ...frame, headers, payload: new TextEncoder().encode(JSON.stringify(body)) }));
  };
  const events = () => frames.filter((f) => headerValue(f, "type") === "event");
  return { ws, frames, events, state, ping, ack };
}
