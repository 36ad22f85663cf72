// Webhook mode end to end: the real service with an app in webhook mode (verification token and
// encrypt key), the emulator delivering its card clicks over HTTP, and requests forged, stale,
// replayed or unencrypted refused before anything runs.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { encryptEvent, signEvent } from "../../src/emulator/webhook/crypto.js";
import { startTestEmulator } from "../conformance/emulator-support.js";
import { APP_SECRET, byOpenId, cardFor, FAST_JOBS, newUser, sessionIn } from "../support/auth-flow.js";
import { startTestApp, TEST_APP_ID, type TestApp } from "../support/test-app.js";

const TOKEN = `vt-${randomBytes(8).toString("hex")}`;
const ENCRYPT_KEY = `ek-${randomBytes(8).toString("hex")}`;

let emulator: RunningEmulator;
let t: TestApp;
beforeAll(async () => {
  emulator = await startTestEmulator();
  t = await startTestApp(
    {
      LARK_DOMAIN: emulator.url,
      LARK_APP_SECRET: APP_SECRET,
      LARK_AUTH_FLOW: "redirect",
      LARK_EVENT_MODE: "webhook",
      LARK_VERIFICATION_TOKEN: TOKEN,
      LARK_ENCRYPT_KEY: ENCRYPT_KEY,
    },
    { jobs: FAST_JOBS },
  );
  emulator.registerApp({
    app_id: TEST_APP_ID,
    app_secret: APP_SECRET,
    name: "Webhook Test",
    event_mode: "webhook",
    webhook_url: `${t.httpUrl}/lark/events`,
    encrypt_key: ENCRYPT_KEY,
    verification_token: TOKEN,
  });
});
afterAll(async () => {
  await t?.close();
  await emulator?.close();
});

/** A card click's envelope, as the platform builds it, for a button that is not ours. */
function envelope(eventId = randomBytes(16).toString("hex"), token = TOKEN) {
  return {
    schema: "2.0",
    header: { event_id: eventId, token, event_type: "card.action.trigger", app_id: TEST_APP_ID },
    event: { operator: { open_id: "ou_someone" }, action: { value: { action: "other" }, tag: "button" } },
  };
}

/** Signed and encrypted the way the platform sends it (src/emulator/webhook), with knobs to forge it. */
function post(
  message: object,
  opts: { key?: string; timestamp?: number; nonce?: string; encrypt?: boolean } = {},
) {
  const json = JSON.stringify(message);
  const body = opts.encrypt === false ? json : JSON.stringify({ encrypt: encryptEvent(ENCRYPT_KEY, json) });
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? randomBytes(8).toString("hex");
  return fetch(`${t.httpUrl}/lark/events`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-lark-request-timestamp": timestamp,
      "x-lark-request-nonce": nonce,
      "x-lark-signature": signEvent(timestamp, nonce, opts.key ?? ENCRYPT_KEY, body),
    },
    body,
  });
}

async function metric(line: string): Promise<number | undefined> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const hit = text.split("\n").find((l) => l.startsWith(`${line} `));
  return hit === undefined ? undefined : Number(hit.split(" ").pop());
}

describe("webhook mode", () => {
  it("answers the console's URL verification", async () => {
    const res = await fetch(`${emulator.url}/_emulator/apps/${TEST_APP_ID}/verify-webhook`, {
      method: "POST",
    });
    expect(await res.json()).toEqual({ verified: true });
  });

  it("takes an encrypted, signed Decline and reports the app as on webhook delivery", async () => {
    const user = newUser(emulator);
    const { session } = await t.clients().auth.startAuthorization({
      appId: TEST_APP_ID,
      user: byOpenId(user.open_id),
      scopes: ["contact:user.base:readonly"],
    });
    const id = session?.sessionId ?? "";
    const card = await cardFor(emulator, user.open_id, id);
    const click = await emulator.clickCard(card.message_id, {
      operator_open_id: user.open_id,
      value: { action: "decline", session_id: id },
    });
    expect(click).toMatchObject({ ok: true, acked: true, toast: { type: "success" } });
    await sessionIn(t, id, S.DECLINED);
    const ready = await (await fetch(`${t.httpUrl}/readyz`)).json();
    expect(ready).toMatchObject({ status: "ready", lark: { [TEST_APP_ID]: "webhook" } });
  });

  it("handles a redelivered event once and answers it the same", async () => {
    const duplicates = `lark_auth_lark_events_received_total{app_id="${TEST_APP_ID}",source="webhook",outcome="duplicate"}`;
    const before = (await metric(duplicates)) ?? 0;
    const message = envelope();
    const first = await post(message);
    const again = await post(message);
    expect([first.status, again.status]).toEqual([200, 200]);
    expect(await again.json()).toEqual(await first.json());
    expect(await metric(duplicates)).toBe(before + 1);
  });

  it("refuses forged, stale, replayed and unencrypted requests", async () => {
    const rejected = async (res: Response) => ({ status: res.status, body: await res.json() });
    expect(await rejected(await post(envelope(), { key: "a guessed key" }))).toEqual({
      status: 401,
      body: { error: "bad_signature" },
    });
    expect(await rejected(await post(envelope(undefined, "a guessed token")))).toEqual({
      status: 401,
      body: { error: "bad_token" },
    });
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect(await rejected(await post(envelope(), { timestamp: old }))).toEqual({
      status: 401,
      body: { error: "stale" },
    });
    expect(await rejected(await post(envelope(), { encrypt: false }))).toEqual({
      status: 401,
      body: { error: "not_encrypted" },
    });
    const replay = { nonce: "a-captured-nonce", timestamp: Math.floor(Date.now() / 1000) };
    expect((await post(envelope(), replay)).status).toBe(200);
    expect(await rejected(await post(envelope(), replay))).toEqual({
      status: 409,
      body: { error: "replayed" },
    });
    const secrets = t.logs.lines.join("\n");
    expect(secrets).not.toContain(TOKEN);
    expect(secrets).not.toContain(ENCRYPT_KEY);
  });
});
