// The gateway closes a connection whose client has gone silent (no ping for two PingIntervals) and
// stops picking it for delivery; a real WSClient that keeps pinging is left alone.
import { afterEach, describe, expect, it } from "vitest";
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

// PingInterval is 1 s (FAST_CLIENT_CONFIG), so a silent client is dropped ~3 s (2 intervals + 1 s
// grace) after its last frame.
describe("idle long connections", () => {
  let env: Env | undefined;
  let sdk: ReturnType<typeof startClient> | undefined;

  afterEach(async () => {
    sdk?.close();
    await env?.close();
  });

  it("drops a client that stopped pinging while a pinging WSClient of the same app stays", async () => {
    const appId = newAppId();
    env = await startHub({ ackTimeoutMs: 1000, maxAttempts: 3 });
    const received: string[] = [];
    const handlers = {
      "im.message.receive_v1": (d: Record<string, unknown>) => void received.push(String(d.event_id)),
    };
    sdk = startClient(env.domain, { appId, handlers });
    await waitFor(() => sdk?.events.ready === 1, 5000, "WSClient ready");
    const silent = await startRawClient(env.domain, appId); // one ping, then nothing
    const since = Date.now();
    expect(env.hub.connectionCount(appId)).toBe(2);

    await waitFor(() => silent.state.closed, 6000, "the silent client to be dropped");
    expect(Date.now() - since).toBeGreaterThanOrEqual(2000); // not before its allowance
    await waitFor(() => env?.hub.connectionCount(appId) === 1, 2000, "the registry to forget it");
    await sleep(3500); // more than another allowance: the WSClient's pings keep it registered
    expect(env.hub.connectionCount(appId)).toBe(1);
    expect(sdk.events).toMatchObject({ ready: 1, reconnecting: 0 });

    // Cluster mode picks at random: with the silent socket still picked, some of these would cost
    // an ACK timeout and a second attempt (all eight avoiding it by luck: 1 in 256).
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => env?.hub.deliver(appId, messageEvent(appId, `m${i}`))),
    );
    expect(results).toEqual(Array(8).fill({ acked: true, attempts: 1 }));
    expect(silent.events()).toEqual([]);
  });

  it("honours a fixed idleTimeoutMs and counts any frame, not just pings, as a sign of life", async () => {
    const appId = newAppId();
    env = await startHub({ idleTimeoutMs: 1500, clientConfig: { PingInterval: 60 } });
    const raw = await startRawClient(env.domain, appId);
    // An ACK for nothing (unknown message_id) every 500 ms keeps it alive for 3 s, twice the allowance.
    const frame = {
      seqId: 1n,
      logId: 1n,
      service: 0,
      method: 1,
      headers: [{ key: "message_id", value: "none" }],
    };
    for (let i = 0; i < 6; i++) {
      raw.ack(frame, 200);
      await sleep(500);
    }
    expect(raw.state.closed).toBe(false);
    await waitFor(() => raw.state.closed, 4000, "the now silent client to be dropped");
    await waitFor(() => env?.hub.connectionCount(appId) === 0, 2000, "the registry to forget it");
  });
});
