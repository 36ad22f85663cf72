// Redelivery must match each ACK to the push it answers (the SDK echoes the pushed frame's SeqID): a
// late failure of an earlier push must not cut short the push that is still waiting for its answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  messageEvent,
  newAppId,
  sleep,
  startClient,
  startHub,
  startRawClient,
  waitFor,
} from "./longconn-harness.js";

type Env = Awaited<ReturnType<typeof startHub>>;

// 1.5 s ACK timeout: every step below keeps at least 500 ms between the events it orders.
const ACK_TIMEOUT_MS = 1500;

describe("late ACKs, real WSClient", () => {
  const appId = newAppId();
  const calls: number[] = [];
  let env: Env;
  let sdk: ReturnType<typeof startClient>;

  beforeAll(async () => {
    env = await startHub({ ackTimeoutMs: ACK_TIMEOUT_MS, maxAttempts: 3 });
    const handler = async () => {
      const call = calls.push(Date.now());
      // Push 1 fails late: its {code:500} arrives ~2000 ms in, while push 2 (sent at 1500 ms) is
      // still being handled; push 2 answers at ~2500 ms, well before its own deadline (3000 ms).
      await sleep(call === 1 ? 2000 : 1000);
      if (call === 1) throw new Error("late failure");
      return { call };
    };
    sdk = startClient(env.domain, { appId, handlers: { "im.message.receive_v1": handler } });
    await waitFor(() => sdk.events.ready === 1, 5000, "WSClient ready");
  });

  afterAll(async () => {
    sdk.close();
    await env.close();
  });

  it("ignores push 1's late {code:500} while push 2 is pending, and takes push 2's answer", async () => {
    const result = await env.hub.deliver(appId, messageEvent(appId, "late failure"));
    expect(result).toEqual({ acked: true, response: { call: 2 }, attempts: 2 });
    expect(calls).toHaveLength(2); // no third push
  });
});

describe("late ACKs, hand-driven socket", () => {
  let env: Env;

  beforeAll(async () => {
    env = await startHub({ ackTimeoutMs: ACK_TIMEOUT_MS, maxAttempts: 3 });
  });
  afterAll(async () => env.close());

  async function twoPushes() {
    const appId = newAppId();
    const raw = await startRawClient(env.domain, appId);
    const delivery = env.hub.deliver(appId, messageEvent(appId, "x"));
    await waitFor(() => raw.events().length === 2, ACK_TIMEOUT_MS + 2000, "the second push");
    const [first, second] = raw.events();
    if (!first || !second) throw new Error("missing pushes");
    expect(first.seqId).not.toBe(second.seqId);
    return { raw, delivery, first, second };
  }

  it("a {code:500} echoing push 1's SeqID does not end attempt 2", async () => {
    const { raw, delivery, first, second } = await twoPushes();
    raw.ack(first, 500);
    await sleep(500);
    expect(raw.events()).toHaveLength(2); // attempt 2 still waits: no third push
    raw.ack(second, 200, { ok: 2 });
    expect(await delivery).toEqual({ acked: true, response: { ok: 2 }, attempts: 2 });
    raw.ws.terminate();
  });

  it("a {code:500} echoing push 2's SeqID ends attempt 2 at once", async () => {
    const { raw, delivery, second } = await twoPushes();
    raw.ack(second, 500);
    await waitFor(() => raw.events().length === 3, 500, "the third push");
    const third = raw.events()[2];
    if (third) raw.ack(third, 200);
    expect(await delivery).toEqual({ acked: true, attempts: 3 });
    raw.ws.terminate();
  });

  it("a late {code:200} of push 1 completes the delivery: one success is all the platform needs", async () => {
    const { raw, delivery, first } = await twoPushes();
    raw.ack(first, 200, { ok: 1 });
    expect(await delivery).toEqual({ acked: true, response: { ok: 1 }, attempts: 2 });
    raw.ws.terminate();
  });
});
