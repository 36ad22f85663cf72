import { describe, expect, it } from "vitest";
import { encryptEvent, signEvent } from "../../src/emulator/webhook/crypto.js";
import { createWebhookVerifier } from "../../src/lark/webhook.js";

const APP = { appId: "cli_a1b2c3d4e5f60001", verificationToken: "vt-unit-test", encryptKey: "ek-unit-test" };
const NOW = 1_800_000_000_000;

/** A delivery as the platform signs it: encrypted envelope, timestamp, nonce and signature headers. */
function delivery(nonce: string, timestamp = String(NOW / 1000)) {
  const envelope = {
    schema: "2.0",
    header: {
      event_id: "ev_1",
      event_type: "card.action.trigger",
      token: APP.verificationToken,
      app_id: APP.appId,
    },
    event: {},
  };
  const body = JSON.stringify({ encrypt: encryptEvent(APP.encryptKey, JSON.stringify(envelope)) });
  return {
    body,
    headers: {
      "x-lark-request-timestamp": timestamp,
      "x-lark-request-nonce": nonce,
      "x-lark-signature": signEvent(timestamp, nonce, APP.encryptKey, body),
    },
  };
}

describe("webhook verifier", () => {
  const verifier = () => createWebhookVerifier([APP], { maxSkewSeconds: 300, now: () => NOW });

  it("accepts a signed delivery once and refuses the same timestamp and nonce again", () => {
    const verify = verifier();
    expect(verify(delivery("n-1")).ok).toBe(true);
    expect(verify(delivery("n-1"))).toEqual({ ok: false, refusal: "replayed" });
    expect(verify(delivery("n-2")).ok).toBe(true);
  });

  it("lets a retry through once the first delivery's nonce was forgotten (its answer asked for a retry)", () => {
    const verify = verifier();
    const first = verify(delivery("n-1"));
    if (!first.ok) throw new Error(`refused: ${first.refusal}`);
    first.forget();
    expect(verify(delivery("n-1")).ok).toBe(true);
  });

  it("refuses stale timestamps and forged signatures", () => {
    const verify = verifier();
    expect(verify(delivery("n-1", String(NOW / 1000 - 301)))).toEqual({ ok: false, refusal: "stale" });
    const forged = delivery("n-2");
    forged.headers["x-lark-signature"] = "0".repeat(64);
    expect(verify(forged)).toEqual({ ok: false, refusal: "bad_signature" });
  });
});
