// POST /lark/events under abuse: oversized, malformed, forged and concurrent requests each get a
// clear 4xx, the service stays up, and neither answers nor logs (debug level) carry the app's
// verification token, encrypt key or secret.
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptEvent, signEvent } from "../../src/emulator/webhook/crypto.js";
import { APP_SECRET } from "../support/auth-flow.js";
import { startTestApp, TEST_APP_ID, type TestApp } from "../support/test-app.js";

const TOKEN = `vt-${randomBytes(8).toString("hex")}`;
const ENCRYPT_KEY = `ek-${randomBytes(8).toString("hex")}`;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    LARK_APP_SECRET: APP_SECRET,
    LARK_EVENT_MODE: "webhook",
    LARK_VERIFICATION_TOKEN: TOKEN,
    LARK_ENCRYPT_KEY: ENCRYPT_KEY,
  });
});
afterAll(async () => {
  await t?.close();
});

/** Raw node:http so the status of a refused upload is seen even when the server stops reading. */
function send(body: string | Buffer, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${t.httpUrl}/lark/events`, { method: "POST", headers }, (res) => {
      let text = "";
      res.on("data", (c) => {
        text += String(c);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const now = () => String(Math.floor(Date.now() / 1000));

function signed(body: string, over: Record<string, string> = {}) {
  const timestamp = over["x-lark-request-timestamp"] ?? now();
  const nonce = over["x-lark-request-nonce"] ?? randomBytes(8).toString("hex");
  return {
    "content-type": "application/json",
    "x-lark-request-timestamp": timestamp,
    "x-lark-request-nonce": nonce,
    "x-lark-signature": signEvent(timestamp, nonce, ENCRYPT_KEY, body),
    ...over,
  };
}

describe("POST /lark/events under abuse", () => {
  it("answers a body over the limit 413, not a reset connection", async () => {
    const res = await send(Buffer.alloc(2 * 1024 * 1024, "a"), { "content-type": "application/json" });
    expect(res).toEqual({ status: 413, body: JSON.stringify({ error: "too_large" }) });
  });

  it("refuses non-JSON, wrong content types and non-object JSON with 400", async () => {
    for (const body of ["", "not json", "[]", "null", "42", '"x"', "{"]) {
      expect((await send(body, { "content-type": "text/plain" })).status, body).toBe(400);
    }
  });

  it("refuses encrypted garbage, bad base64 and signatures of any length with 401 or 400", async () => {
    const bodies = [
      JSON.stringify({ encrypt: "!!!not base64!!!" }),
      JSON.stringify({ encrypt: "" }),
      JSON.stringify({ encrypt: 42 }),
      JSON.stringify({ encrypt: Buffer.alloc(8).toString("base64") }),
    ];
    for (const body of bodies) {
      for (const sig of ["", "a", "0".repeat(64), "0".repeat(65), "z".repeat(5000)]) {
        const res = await send(body, { ...signed(body), "x-lark-signature": sig });
        expect([400, 401], `${body} ${sig.length}`).toContain(res.status);
      }
    }
  });

  it("refuses a correctly signed body that does not decrypt, and bad timestamps", async () => {
    const garbage = JSON.stringify({ encrypt: randomBytes(40).toString("base64") });
    expect((await send(garbage, signed(garbage))).status).toBe(400);
    const short = JSON.stringify({ encrypt: randomBytes(4).toString("base64") });
    expect((await send(short, signed(short))).status).toBe(400);
    const env = JSON.stringify({
      schema: "2.0",
      header: { event_id: "e1", token: TOKEN, event_type: "x", app_id: TEST_APP_ID },
    });
    const body = JSON.stringify({ encrypt: encryptEvent(ENCRYPT_KEY, env) });
    for (const ts of ["9999999999", "0", "-1", "1e9", "abc", "", " 1"]) {
      const res = await send(body, signed(body, { "x-lark-request-timestamp": ts }));
      expect([400, 401], ts).toContain(res.status);
    }
  });

  it("refuses a url_verification with a wrong token and one for another app", async () => {
    const wrong = JSON.stringify({ type: "url_verification", challenge: "c", token: "guess" });
    expect((await send(wrong, signed(wrong))).status).toBe(401);
    const other = JSON.stringify({
      schema: "2.0",
      header: { event_id: "e2", token: TOKEN, event_type: "x", app_id: "cli_someone_else" },
    });
    const body = JSON.stringify({ encrypt: encryptEvent(ENCRYPT_KEY, other) });
    expect((await send(body, signed(body))).status).toBe(401);
  });

  it("survives 300 forged requests at once, each refused", async () => {
    const body = JSON.stringify({ encrypt: randomBytes(64).toString("base64") });
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () =>
        fetch(`${t.httpUrl}/lark/events`, {
          method: "POST",
          headers: signed(body, { "x-lark-signature": "f".repeat(64) }),
          body,
        }).then((r) => r.status),
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect((await fetch(`${t.httpUrl}/healthz`)).status).toBe(200);
  });

  it("leaves no secret in answers, logs, /readyz or /metrics", async () => {
    const seen = [
      ...t.logs.lines,
      await (await fetch(`${t.httpUrl}/readyz`)).text(),
      await (await fetch(`${t.httpUrl}/metrics`)).text(),
    ].join("\n");
    for (const secret of [TOKEN, ENCRYPT_KEY, APP_SECRET]) expect(seen).not.toContain(secret);
  });
});
