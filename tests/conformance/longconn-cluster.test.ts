// Cluster mode and connection admission with real node-sdk WSClients: each event reaches exactly one
// of an app's clients, apps are isolated, an app holds at most 50 connections, bad secrets are fatal.
import { afterEach, describe, expect, it } from "vitest";
import { messageEvent, newAppId, sleep, startClient, startHub, waitFor } from "./longconn-harness.js";

type Env = Awaited<ReturnType<typeof startHub>>;
type Sdk = ReturnType<typeof startClient>;

describe("long connection cluster mode and limits", () => {
  let env: Env | undefined;
  let clients: Sdk[] = [];

  afterEach(async () => {
    for (const c of clients) c.close();
    clients = [];
    await env?.close();
  });

  function receiver(domain: string, appId: string, log: string[], name: string): Sdk {
    const sdk = startClient(domain, {
      appId,
      handlers: { "im.message.receive_v1": (d) => void log.push(`${name}:${String(d.event_id)}`) },
    });
    clients.push(sdk);
    return sdk;
  }

  it("delivers each event to exactly one of the app's clients, spreading them at random", async () => {
    env = await startHub();
    const appId = newAppId();
    const log: string[] = [];
    const [a, b] = [receiver(env.domain, appId, log, "a"), receiver(env.domain, appId, log, "b")];
    await waitFor(() => a.events.ready + b.events.ready === 2, 5000, "two clients");
    // A socket gets data only after its first ping, sent on open; give both pings time to land so
    // the spread below is the hub's choice, not a readiness race.
    await sleep(200);
    const events = Array.from({ length: 24 }, (_, i) => messageEvent(appId, `n${i}`));
    const results = await Promise.all(events.map((e) => env?.hub.deliver(appId, e)));
    expect(results.every((r) => r?.acked && r.attempts === 1)).toBe(true);
    const ids = log.map((entry) => entry.slice(2));
    expect(ids.sort()).toEqual(events.map((e) => e.header.event_id).sort()); // once each, no broadcast
    expect(log.some((e) => e.startsWith("a:"))).toBe(true);
    expect(log.some((e) => e.startsWith("b:"))).toBe(true);
  });

  it("keeps apps apart", async () => {
    env = await startHub();
    const [appA, appB] = [newAppId(), newAppId()];
    const log: string[] = [];
    const a = receiver(env.domain, appA, log, "a");
    const b = receiver(env.domain, appB, log, "b");
    await waitFor(() => a.events.ready + b.events.ready === 2, 5000, "two apps");
    for (let i = 0; i < 5; i++) await env.hub.deliver(appA, messageEvent(appA, "for a"));
    expect(log).toHaveLength(5);
    expect(log.every((e) => e.startsWith("a:"))).toBe(true);
  });

  it("admits 50 connections per app and answers the 51st bootstrap with 1000040350", async () => {
    env = await startHub();
    const appId = newAppId();
    const log: string[] = [];
    const fleet = Array.from({ length: 50 }, (_, i) => receiver(env?.domain ?? "", appId, log, `c${i}`));
    await waitFor(() => env?.hub.connectionCount(appId) === 50, 10_000, "50 connections");
    await waitFor(() => fleet.every((c) => c.events.ready === 1), 5000, "50 ready clients");

    const extra = receiver(env.domain, appId, log, "extra");
    await waitFor(() => extra.events.failures.length === 1, 5000, "51st client rejected");
    expect(extra.events.failures[0]).toContain("code=1000040350");
    expect(env.hub.connectionCount(appId)).toBe(50);

    // A freed slot can be taken again.
    fleet[0]?.close();
    await waitFor(() => env?.hub.connectionCount(appId) === 49, 5000, "slot freed");
    const late = receiver(env.domain, appId, log, "late");
    await waitFor(() => late.events.ready === 1, 5000, "late client admitted");
    expect(env.hub.connectionCount(appId)).toBe(50);
  });

  it("makes a wrong app secret a fatal bootstrap error for the SDK (code 514)", async () => {
    env = await startHub();
    const sdk = startClient(env.domain, { appId: newAppId(), appSecret: "nope", handlers: {} });
    clients.push(sdk);
    await waitFor(() => sdk.events.failures.length === 1, 5000, "auth failure");
    expect(sdk.events.failures[0]).toContain("code=514");
    await new Promise((r) => setTimeout(r, 1500));
    expect(env.stats.bootstraps).toBe(1); // not retried
  });
});
