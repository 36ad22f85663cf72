// Webhook delivery into the real node-sdk `adaptDefault` handler: URL verification challenge, plain
// and encrypted events, the signature check, and retries when the app does not answer 200 in time.
import { createServer, type IncomingHttpHeaders, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import * as lark from "@larksuiteoapi/node-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { decryptEvent } from "../../src/emulator/webhook/crypto.js";
import { deliverWebhook, verifyWebhookUrl } from "../../src/emulator/webhook/delivery.js";
import { cardActionEvent, newAppId } from "./longconn-harness.js";

const PATH = "/webhook/event";
const TOKEN = "verification-token";
const quiet = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, trace: () => {} };
type Seen = { headers: IncomingHttpHeaders; body: string };

describe("webhook delivery to the node-sdk adaptDefault handler", () => {
  const servers: Array<{ close(): void; closeAllConnections(): void }> = [];
  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  /** Starts a server; every request body is recorded before the listener sees it (re-emitted). */
  async function serve(listener: RequestListener, seen: Seen[] = []): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() }));
      listener(req, res);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`;
  }

  function sdkApp(
    encryptKey: string | undefined,
    calls: Array<Record<string, unknown>>,
    autoChallenge = true,
  ) {
    const dispatcher = new lark.EventDispatcher({
      encryptKey,
      verificationToken: TOKEN,
      loggerLevel: lark.LoggerLevel.error,
      logger: quiet,
    }).register({
      "card.action.trigger": (data: Record<string, unknown>) => {
        calls.push(data);
        return { toast: { type: "success", content: "ok" } };
      },
    });
    return lark.adaptDefault(PATH, dispatcher, { autoChallenge });
  }

  it("passes the challenge and delivers a plain card callback, returning the handler's answer", async () => {
    const calls: Array<Record<string, unknown>> = [];
    const seen: Seen[] = [];
    const app = { webhookUrl: await serve(sdkApp(undefined, calls), seen), verificationToken: TOKEN };
    expect(await verifyWebhookUrl(app)).toBe(true);
    expect(JSON.parse(seen[0]?.body ?? "")).toMatchObject({ type: "url_verification", token: TOKEN });

    const event = cardActionEvent(newAppId(), { action: "auth_done" });
    const result = await deliverWebhook(app, event);
    expect(result).toEqual({
      acked: true,
      response: { toast: { type: "success", content: "ok" } },
      attempts: 1,
    });
    expect(calls[0]).toMatchObject({ event_type: "card.action.trigger", token: event.event.token });
    const { headers, body } = seen[1] as Seen;
    expect(body).toBe(JSON.stringify(event)); // compact JSON, as the SDK re-serialises it
    expect(headers["x-lark-request-timestamp"]).toMatch(/^\d{10}$/);
    expect(headers["x-lark-request-nonce"]).toBeTruthy();
    expect(headers["x-lark-signature"]).toBeUndefined();
  });

  it("encrypts with the Encrypt Key and signs so that the SDK's signature check passes", async () => {
    const calls: Array<Record<string, unknown>> = [];
    const seen: Seen[] = [];
    const encryptKey = "encrypt-key-for-tests";
    const app = {
      webhookUrl: await serve(sdkApp(encryptKey, calls), seen),
      encryptKey,
      verificationToken: TOKEN,
    };
    expect(await verifyWebhookUrl(app)).toBe(true);

    const event = cardActionEvent(newAppId(), { action: "auth_done", n: 1 });
    const result = await deliverWebhook(app, event);
    expect(result).toEqual({
      acked: true,
      response: { toast: { type: "success", content: "ok" } },
      attempts: 1,
    });
    expect(calls).toHaveLength(1); // signature verified, payload decrypted
    const sent = JSON.parse(seen[1]?.body ?? "") as { encrypt: string };
    expect(Object.keys(sent)).toEqual(["encrypt"]);
    expect(JSON.parse(decryptEvent(encryptKey, sent.encrypt))).toEqual(event);
    expect(seen[1]?.headers["x-lark-signature"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("is rejected by the SDK (200, empty body, handler not run) when the keys disagree", async () => {
    const calls: Array<Record<string, unknown>> = [];
    // autoChallenge off: with it the SDK decrypts before checking the signature and a wrong key makes
    // its handler throw (an unhandled rejection, the request never answered).
    const url = await serve(sdkApp("the-apps-key", calls, false));
    const app = { webhookUrl: url, encryptKey: "another-key", verificationToken: TOKEN };
    expect(await deliverWebhook(app, cardActionEvent(newAppId(), {}))).toEqual({ acked: true, attempts: 1 });
    expect(calls).toEqual([]);
  });

  it("retries on non-200 answers with the configured backoff", async () => {
    const calls: Array<Record<string, unknown>> = [];
    const sdk = sdkApp(undefined, calls);
    let n = 0;
    const url = await serve((req, res) => (++n <= 2 ? res.writeHead(503).end() : sdk(req, res)));
    const app = { webhookUrl: url, verificationToken: TOKEN };
    const started = Date.now();
    const result = await deliverWebhook(app, cardActionEvent(newAppId(), {}), { retryDelaysMs: [50, 100] });
    expect(result).toMatchObject({ acked: true, attempts: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(calls).toHaveLength(1);
  });

  it("gives up after the schedule when the app never answers in time", async () => {
    const url = await serve(() => {}); // accepts, never responds
    const app = { webhookUrl: url, verificationToken: TOKEN };
    const options = { retryDelaysMs: [20, 20], timeoutMs: 200 };
    expect(await deliverWebhook(app, cardActionEvent(newAppId(), {}), options)).toEqual({
      acked: false,
      attempts: 3,
    });
    expect(await verifyWebhookUrl(app, { timeoutMs: 200 })).toBe(false);
  });

  it("fails verification when the app does not echo the challenge", async () => {
    const url = await serve((_req, res) => res.end(JSON.stringify({ challenge: "something else" })));
    expect(await verifyWebhookUrl({ webhookUrl: url, verificationToken: TOKEN })).toBe(false);
  });
});
