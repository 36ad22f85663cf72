// Connection faults against the real node-sdk WSClient: dropped sockets, refused upgrades and
// half-open connections. In each case the SDK must recover by itself and delivery must resume.
import { afterEach, describe, expect, it } from "vitest";
import { messageEvent, newAppId, sleep, startClient, startHub, waitFor } from "./longconn-harness.js";

type Env = Awaited<ReturnType<typeof startHub>>;

describe("long connection faults", () => {
  let env: Env | undefined;
  let sdk: ReturnType<typeof startClient> | undefined;
  const received: string[] = [];

  afterEach(async () => {
    sdk?.close();
    await env?.close();
    received.length = 0;
  });

  async function connected(appId: string, { pingTimeout = 0, maxAttempts = 3 } = {}) {
    env = await startHub({ ackTimeoutMs: 700, maxAttempts });
    const handlers = {
      "im.message.receive_v1": (d: Record<string, unknown>) => void received.push(String(d.event_id)),
    };
    sdk = startClient(env.domain, { appId, handlers, ...(pingTimeout ? { pingTimeout } : {}) });
    await waitFor(() => sdk?.events.ready === 1, 5000, "ready");
    return { env, sdk };
  }

  it("a dropped connection is re-established by the SDK and delivery resumes", async () => {
    const appId = newAppId();
    const { env, sdk } = await connected(appId);
    env.hub.faults.dropConnections(appId);
    // Pushed while the client is away: the attempt waits for the reconnect instead of failing.
    const during = env.hub.deliver(appId, messageEvent(appId, "during"));
    await waitFor(() => sdk.events.reconnected === 1, 5000, "reconnected");
    expect(sdk.events.reconnecting).toBe(1);
    expect((await during).acked).toBe(true);
    expect(await env.hub.deliver(appId, messageEvent(appId, "after"))).toEqual({ acked: true, attempts: 1 });
    expect(env.stats.bootstraps).toBe(2);
    expect(env.hub.connectionCount(appId)).toBe(1);
  });

  it("refused upgrades make the SDK retry every ReconnectInterval until admitted", async () => {
    const appId = newAppId();
    const { env, sdk } = await connected(appId);
    env.hub.faults.refuseConnections(true);
    env.hub.faults.dropConnections();
    await waitFor(() => env.stats.bootstraps >= 3, 5000, "two refused reconnects");
    expect(env.hub.connectionCount(appId)).toBe(0);
    expect(await env.hub.deliver(appId, messageEvent(appId, "lost"))).toEqual({ acked: false, attempts: 3 });
    expect(received).toEqual([]);

    env.hub.faults.refuseConnections(false);
    await waitFor(() => sdk.events.reconnected === 1, 5000, "admitted again");
    expect(await env.hub.deliver(appId, messageEvent(appId, "back"))).toEqual({ acked: true, attempts: 1 });
    expect(sdk.events.failures).toEqual([]); // ReconnectCount -1: retries forever, never gives up
  });

  it("a half-open connection is noticed by the SDK's pingTimeout watchdog", async () => {
    const appId = newAppId();
    // Enough attempts (7 s) to outlast the outage below.
    const { env, sdk } = await connected(appId, { pingTimeout: 1, maxAttempts: 10 });
    env.hub.faults.halfOpen(true);
    const event = messageEvent(appId, "into the void");
    const lost = env.hub.deliver(appId, event);
    // Next ping (PingInterval 1 s) gets no pong within pingTimeout 1 s: the SDK terminates and reconnects.
    await waitFor(() => sdk.events.reconnecting >= 1, 5000, "watchdog fired");
    expect(received).toEqual([]); // nothing gets through a half-open link
    // The SDK is on a new socket while the server still counts the dead one: it never saw a FIN.
    await waitFor(() => env.hub.connectionCount(appId) >= 2, 3000, "new socket beside the dead one");

    env.hub.faults.halfOpen(false);
    await waitFor(() => env.hub.connectionCount(appId) === 1, 5000, "stale sockets reaped");
    expect((await lost).acked).toBe(true); // pushed again once a live connection answers
    expect(received).toEqual([event.header.event_id]);
    await sleep(1500); // two more ping rounds: the surviving connection stays healthy
    expect(await env.hub.deliver(appId, messageEvent(appId, "fine"))).toEqual({ acked: true, attempts: 1 });
  });
});
