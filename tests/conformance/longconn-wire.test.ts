// The hub's wire format, seen by a hand-driven socket speaking exactly what the SDK speaks: bootstrap
// answer and URL shape, tickets, pong payload, "no data before the first ping", fragment headers and
// ACK correlation. The SDK tests prove it works; these pin down why.
import type { IncomingMessage } from "node:http";
import { parse as parseQuery } from "node:querystring";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { decodeFrame, encodeFrame, type Frame, headerValue } from "../../src/emulator/longconn/frame.js";
import { APP_SECRET, FAST_CLIENT_CONFIG, newAppId, startHub, waitFor } from "./longconn-harness.js";

type Endpoint = { code: number; msg: string; data: { URL?: string; ClientConfig?: unknown } };

describe("long connection wire protocol", () => {
  const appId = newAppId();
  let env: Awaited<ReturnType<typeof startHub>>;

  beforeAll(async () => {
    env = await startHub({ fragmentThreshold: 64, ackTimeoutMs: 1000, maxAttempts: 1 });
  });
  afterAll(async () => env.close());

  async function bootstrap(secret = APP_SECRET): Promise<Endpoint> {
    const res = await fetch(`${env.domain}/callback/ws/endpoint`, {
      method: "POST",
      headers: { "Content-Type": "application/json", locale: "zh" },
      body: JSON.stringify({ AppID: appId, AppSecret: secret }),
    });
    return (await res.json()) as Endpoint;
  }

  async function open(url: string) {
    const ws = new WebSocket(url);
    const frames: Frame[] = [];
    ws.on("message", (data: Buffer) => frames.push(decodeFrame(data)));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    return { ws, frames };
  }

  it("survives a peer that resets while its upgrade is being refused", () => {
    const socket = new PassThrough();
    const req = { url: "/ws?fpid=1&ticket=unknown" } as IncomingMessage;
    env.hub.handleUpgrade(req, socket, Buffer.alloc(0));
    expect(() => socket.emit("error", new Error("read ECONNRESET"))).not.toThrow();
  });

  it("answers the bootstrap like the platform, with fpid first and numeric ids", async () => {
    const body = await bootstrap();
    expect(body).toMatchObject({ code: 0, msg: "ok", data: { ClientConfig: FAST_CLIENT_CONFIG } });
    const url = body.data.URL ?? "";
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\?fpid=1&device_id=\d+&service_id=\d+&ticket=\w+$/);
    // The SDK's own parse: querystring over the whole URL.
    const { device_id, service_id } = parseQuery(url);
    expect(String(device_id)).toMatch(/^\d+$/);
    expect(Number(service_id)).toBeGreaterThan(0);
  });

  it("rejects bad credentials with 514 and a data object (fatal for the SDK, not retried)", async () => {
    expect(await bootstrap("wrong")).toEqual({ code: 514, msg: "auth failed", data: {} });
  });

  it("admits a socket only with an unused ticket", async () => {
    const url = (await bootstrap()).data.URL ?? "";
    const bad = new WebSocket(url.replace(/ticket=\w+/, "ticket=forged"));
    const status = await new Promise<number | undefined>((resolve) => {
      bad.once("unexpected-response", (_req, res) => resolve(res.statusCode));
      bad.once("open", () => resolve(101));
    });
    expect(status).toBe(403);
    const { ws } = await open(url);
    const reuse = new WebSocket(url);
    const reused = await new Promise((resolve) =>
      reuse.once("unexpected-response", (_q, res) => resolve(res.headers)),
    );
    expect(reused).toMatchObject({ "handshake-status": "403" });
    ws.terminate();
  });

  it("holds data until the first ping, fragments it and correlates the ACK by message_id", async () => {
    const url = (await bootstrap()).data.URL ?? "";
    const serviceId = Number(parseQuery(url).service_id);
    const { ws, frames } = await open(url);
    const event = { schema: "2.0", header: { event_type: "x.y" }, event: { text: "数据".repeat(40) } };
    const delivery = env.hub.deliver(appId, event);
    await new Promise((r) => setTimeout(r, 150));
    expect(frames).toEqual([]); // nothing pushed before the client's first ping

    const ping = {
      seqId: 0n,
      logId: 0n,
      service: serviceId,
      method: 0,
      headers: [{ key: "type", value: "ping" }],
    };
    ws.send(encodeFrame(ping));
    const total = Math.ceil(JSON.stringify(event).length / 64); // lower bound, multi-byte text is longer
    await waitFor(() => frames.length > total, 2000, "pong and fragments");

    const [pong, ...data] = frames;
    expect(pong).toMatchObject({ method: 0, service: serviceId, headers: [{ key: "type", value: "pong" }] });
    expect(JSON.parse(new TextDecoder().decode(pong?.payload))).toEqual(FAST_CLIENT_CONFIG);
    const sum = Number(headerValue(data[0] as Frame, "sum"));
    expect(sum).toBeGreaterThan(1);
    await waitFor(() => frames.length === sum + 1, 2000, "all fragments");
    const ids = new Set(data.map((f) => headerValue(f, "message_id")));
    expect(ids.size).toBe(1);
    for (const [i, f] of data.entries()) {
      expect(f).toMatchObject({ method: 1, service: serviceId });
      expect(Object.fromEntries(f.headers.map((h) => [h.key, h.value]))).toMatchObject({
        type: "event",
        sum: String(sum),
        seq: String(i),
        trace_id: expect.any(String),
      });
      expect(f.payload?.length ?? 0).toBeLessThanOrEqual(64);
    }
    const merged = Buffer.concat(data.map((f) => f.payload ?? new Uint8Array()));
    expect(JSON.parse(merged.toString("utf8"))).toEqual(event);

    // The SDK's ACK: the last fragment echoed, plus biz_rt, payload replaced.
    const last = data[sum - 1] as Frame;
    const answer = { toast: { type: "info", content: "hi" } };
    const ackPayload = { code: 200, data: Buffer.from(JSON.stringify(answer)).toString("base64") };
    ws.send(
      encodeFrame({
        ...last,
        headers: [...last.headers, { key: "biz_rt", value: "0" }],
        payload: new TextEncoder().encode(JSON.stringify(ackPayload)),
      }),
    );
    expect(await delivery).toEqual({ acked: true, response: answer, attempts: 1 });
    ws.terminate();
  });
});
