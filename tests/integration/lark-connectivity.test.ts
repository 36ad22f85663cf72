// Lark's inbound side against the real emulator and the real node-sdk: supervised long connections
// (dropped, refused, a broken app beside a healthy one), exactly-once card callbacks across replicas,
// and their metrics. The webhook transport has its own file (lark-webhook.test.ts).
import { randomBytes } from "node:crypto";
import { Registry } from "prom-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLarkEvents } from "../../src/compose/lark-events.js";
import type { LarkAppConfig, LarkEventOptions } from "../../src/config/types.js";
import type { AppView, RunningEmulator, UserView } from "../../src/emulator/index.js";
import type { CardActionAnswer, CardActionHandler } from "../../src/lark/card-callback.js";
import { authorizationCard } from "../../src/lark/cards/authorization-card.js";
import { resultCard } from "../../src/lark/cards/result-card.js";
import { createLarkGateway, type LarkService } from "../../src/lark/gateway.js";
import { createInboundDispatcher } from "../../src/lark/inbound.js";
import { createEventInbox } from "../../src/store/event-inbox.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startTestEmulator } from "../conformance/emulator-support.js";
import { waitFor } from "../support/auth-flow.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { captureLogs } from "../support/test-app.js";

let t: TestDatabase;
let emulator: RunningEmulator;
const closers: Array<() => void> = [];

beforeAll(async () => {
  t = await createTestDatabase();
  emulator = await startTestEmulator();
});
afterEach(() => {
  emulator.clearFaults();
  for (const close of closers.splice(0)) close();
});
afterAll(async () => {
  await emulator?.close();
  await t?.close();
});

/** Fast enough for a test, the shape of production: doubling back-off from `base`, capped. */
const FAST: LarkEventOptions = {
  maxReconnectAttempts: 3,
  reconnectBaseDelayMs: 100,
  reconnectMaxDelayMs: 400,
  heartbeatIntervalMs: 50,
  pongTimeoutSeconds: 5,
  fallbackToWebhook: false,
  webhookMaxSkewSeconds: 300,
  dedupHours: 24,
};

function configOf(app: AppView, secret = app.app_secret): LarkAppConfig {
  return { appId: app.app_id, name: app.app_id, appSecret: secret, domain: emulator.url, flow: "redirect" };
}

/** One replica's inbound side for `apps`, on the shared test database; closed after the test. */
function replica(
  apps: readonly LarkAppConfig[],
  onCardAction: CardActionHandler,
  opts: { options?: Partial<LarkEventOptions>; dials?: Map<string, number[]> } = {},
) {
  const { logs, stream } = captureLogs();
  const logger = createLogger({ level: "debug", destination: stream });
  const real = createLarkGateway({ apps, logger });
  // Records when each dial starts; the dial itself is the SDK's.
  const gateway: LarkService = {
    ...real,
    longConnection(appId, dispatcher, pong) {
      const open = real.longConnection(appId, dispatcher, pong);
      return (hooks) => {
        opts.dials?.set(appId, [...(opts.dials.get(appId) ?? []), Date.now()]);
        return open(hooks);
      };
    },
  };
  const events = createLarkEvents({
    apps,
    gateway,
    inbox: createEventInbox(t.db),
    onCardAction,
    options: { ...FAST, ...opts.options },
    logger,
  });
  const registry = new Registry();
  events.metrics.register(registry);
  events.start();
  closers.push(events.close);
  /** The value of one sample of the exposition, 0 when absent. */
  const sample = async (line: string) => {
    const text = await registry.metrics();
    const hit = text.split("\n").find((l) => l.startsWith(`${line} `));
    return hit === undefined ? undefined : Number(hit.split(" ").pop());
  };
  return { events, gateway: real, logs, sample };
}

function newApp(): { app: AppView; user: UserView } {
  const app = emulator.registerApp({});
  const seed = randomBytes(6).toString("hex");
  return { app, user: emulator.createUser({ name: `U ${seed}`, seed, app_id: app.app_id }) };
}

async function cardTo(gateway: LarkService, app: AppView, user: UserView, sessionId = "s-1") {
  const card = authorizationCard({
    sessionId,
    appName: "Expenses",
    scopes: ["contact:user.base:readonly"],
    style: "detailed",
    authorizeUrl: `${emulator.url}/open-apis/authen/v1/authorize`,
    expiresAt: new Date(Date.now() + 600_000),
  });
  return (await gateway.sendCard(app.app_id, { kind: "open_id", value: user.open_id }, card)).messageId;
}

const connected = (events: { states(): Record<string, string> }, appId: string) =>
  waitFor(() => events.states()[appId] === "connected", `${appId} connected`);

const DECLINED: CardActionAnswer = {
  toast: { type: "success", content: "Declined" },
  card: resultCard("Expenses", { state: "declined" }),
};

describe("card callbacks over the supervised long connection", () => {
  it("reach the handler, bring its toast and card back, and are counted from zero", async () => {
    const { app, user } = newApp();
    const seen: unknown[] = [];
    const r = replica([configOf(app)], async (action) => {
      seen.push(action);
      return DECLINED;
    });
    const handled = `lark_auth_lark_events_received_total{app_id="${app.app_id}",source="long_connection",outcome="handled"}`;
    expect(await r.sample(handled)).toBe(0);
    expect(await r.sample(`lark_auth_lark_connection_reconnects_total{app_id="${app.app_id}"}`)).toBe(0);
    await connected(r.events, app.app_id);
    expect(await r.sample(`lark_auth_lark_connection_state{app_id="${app.app_id}",state="connected"}`)).toBe(
      1,
    );
    const messageId = await cardTo(r.gateway, app, user);
    const answer = await emulator.clickCard(messageId, { operator_open_id: user.open_id, index: 0 });
    expect(answer).toMatchObject({ ok: true, acked: true, toast: DECLINED.toast });
    expect(seen).toEqual([
      expect.objectContaining({
        appId: app.app_id,
        operator: expect.objectContaining({ openId: user.open_id }),
      }),
    ]);
    expect(emulator.messagesOf(user.open_id).find((m) => m.message_id === messageId)?.card).toEqual(
      DECLINED.card,
    );
    expect(await r.sample(handled)).toBe(1);
  });

  it("a click Lark redelivers to another replica while the first still works on it takes effect once", async () => {
    const { app, user } = newApp();
    let runs = 0;
    // Slower than the emulator's ACK time-out (1 s): Lark pushes the click again, to the other replica.
    const slow: CardActionHandler = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 1500));
      return DECLINED;
    };
    const a = replica([configOf(app)], slow);
    const b = replica([configOf(app)], slow);
    await connected(a.events, app.app_id);
    await connected(b.events, app.app_id);
    await waitFor(() => emulator.connectionCount(app.app_id) === 2, "both connections");
    const messageId = await cardTo(a.gateway, app, user);
    const answer = await emulator.clickCard(messageId, { operator_open_id: user.open_id, index: 0 });
    expect(answer).toMatchObject({ ok: true, acked: true, toast: DECLINED.toast });
    expect((answer as { attempts: number }).attempts).toBeGreaterThan(1);
    expect(runs).toBe(1);
  });
});

describe("exactly once, whichever transport delivers", () => {
  it("a redelivery gets the stored answer; a failed handler's event runs again", async () => {
    const { app } = newApp();
    const calls: string[] = [];
    let fail = true;
    const logger = createLogger({ level: "silent" });
    const deps = {
      inbox: createEventInbox(t.db),
      logger,
      onCardAction: async (): Promise<CardActionAnswer> => {
        calls.push("run");
        if (fail) throw new Error("the database is down");
        return DECLINED;
      },
    };
    // The two transports' dispatchers of one app, as two replicas would hold them.
    const ws = createInboundDispatcher(app.app_id, "long_connection", deps);
    const hook = createInboundDispatcher(app.app_id, "webhook", deps);
    const envelope = {
      schema: "2.0",
      header: {
        event_id: randomBytes(16).toString("hex"),
        event_type: "card.action.trigger",
        app_id: app.app_id,
      },
      event: { operator: { open_id: "ou_x" }, action: { value: { action: "decline", session_id: "s" } } },
    };
    expect(await ws.invoke(envelope, { needCheck: false })).toMatchObject({ toast: { type: "error" } });
    fail = false;
    const handled = await hook.invoke(envelope, { needCheck: false });
    expect(handled).toMatchObject({ toast: DECLINED.toast });
    expect(await ws.invoke(envelope, { needCheck: false })).toEqual(handled);
    expect(await hook.invoke(envelope, { needCheck: false })).toEqual(handled);
    expect(calls).toEqual(["run", "run"]);
  });
});

describe("the supervisor", () => {
  it("reconnects a dropped connection within the back-off bounds, reporting the change once", async () => {
    const { app, user } = newApp();
    const r = replica([configOf(app)], async () => DECLINED);
    await connected(r.events, app.app_id);
    const messageId = await cardTo(r.gateway, app, user);
    const dropped = Date.now();
    emulator.addFault({ drop_connections: true, app_id: app.app_id });
    // Clicked while the plug is out: Lark holds it until a connection is back, and it is not lost.
    const click = emulator.clickCard(messageId, { operator_open_id: user.open_id, index: 0 });
    const reconnects = `lark_auth_lark_connection_reconnects_total{app_id="${app.app_id}"}`;
    await waitFor(async () => (await r.sample(reconnects)) === 1, "the drop noticed");
    await connected(r.events, app.app_id);
    // Heartbeat (50 ms) + a share of one base delay (100 ms) + a bootstrap and an upgrade.
    expect(Date.now() - dropped).toBeLessThan(3000);
    expect(await r.sample(reconnects)).toBe(1);
    const transitions = r.logs.records().filter((l) => l.component === "lark-long-connection" && l.to);
    expect(transitions.map((l) => l.to)).toEqual(["connected", "reconnecting", "connected"]);
    expect(await click).toMatchObject({ ok: true, acked: true, toast: DECLINED.toast });
  });

  it("cuts a half-open connection (no pong after a ping) and dials again", async () => {
    const { app, user } = newApp();
    const r = replica([configOf(app)], async () => DECLINED, { options: { pongTimeoutSeconds: 1 } });
    await connected(r.events, app.app_id);
    emulator.addFault({ half_open: true });
    const reconnects = `lark_auth_lark_connection_reconnects_total{app_id="${app.app_id}"}`;
    // Pings every second (the emulator's PingInterval), one second to answer: cut within a few.
    await waitFor(async () => ((await r.sample(reconnects)) ?? 0) >= 1, "the silent link cut", 10_000);
    emulator.clearFaults();
    await connected(r.events, app.app_id);
    const messageId = await cardTo(r.gateway, app, user);
    expect(await emulator.clickCard(messageId, { operator_open_id: user.open_id, index: 0 })).toMatchObject({
      acked: true,
    });
  });

  it("backs off exponentially while refused, reports failed when the attempts are spent, and recovers by itself", async () => {
    const { app } = newApp();
    const dials = new Map<string, number[]>();
    const r = replica([configOf(app)], async () => DECLINED, { dials });
    await connected(r.events, app.app_id);
    emulator.addFault({ refuse_connections: true });
    emulator.addFault({ drop_connections: true, app_id: app.app_id });
    await waitFor(() => r.events.states()[app.app_id] === "failed", "failed", 15_000);
    await waitFor(() => (dials.get(app.app_id)?.length ?? 0) >= 6, "probing at the cap");
    expect(await r.sample(`lark_auth_lark_connection_state{app_id="${app.app_id}",state="failed"}`)).toBe(1);
    emulator.clearFaults();
    await connected(r.events, app.app_id);
    // Dial 1 connected; dial 2 followed the drop; each later one waited [d/2, d] after a failure,
    // d doubling from 100 ms and capped at 400 ms (plus the failed dial's own time, under a second here).
    const times = dials.get(app.app_id) ?? [];
    const gaps = times.slice(2, 6).map((at, i) => at - (times[i + 1] as number));
    const bounds = [100, 200, 400, 400];
    gaps.forEach((gap, i) => {
      const d = bounds[i] as number;
      expect(gap).toBeGreaterThanOrEqual(d / 2 - 5);
      expect(gap).toBeLessThan(d + 1500);
    });
  });

  it("hands an app whose connection keeps failing to webhook delivery, when told to", async () => {
    const { app } = newApp();
    const config = { ...configOf(app, "not-the-secret"), verificationToken: "vt-fallback" };
    const r = replica([config], async () => DECLINED, { options: { fallbackToWebhook: true } });
    const event = (eventId: string) => ({
      headers: {
        "x-lark-request-timestamp": String(Math.floor(Date.now() / 1000)),
        "x-lark-request-nonce": eventId,
      },
      body: JSON.stringify({
        schema: "2.0",
        header: {
          event_id: eventId,
          token: "vt-fallback",
          event_type: "card.action.trigger",
          app_id: app.app_id,
        },
        event: { operator: { open_id: "ou_x" }, action: { value: { action: "other" } } },
      }),
    });
    expect(await r.events.receive(event("e-before"))).toMatchObject({ status: 409 });
    await waitFor(() => r.events.states()[app.app_id] === "webhook", "the fallback", 15_000);
    expect(await r.events.receive(event("e-after"))).toMatchObject({
      status: 200,
      body: { toast: DECLINED.toast },
    });
  });

  it("keeps a healthy app connected beside one with a broken secret", async () => {
    const good = newApp();
    const broken = newApp();
    const seen: string[] = [];
    const r = replica([configOf(good.app), configOf(broken.app, "not-the-secret")], async (action) => {
      seen.push(action.appId);
      return DECLINED;
    });
    await waitFor(() => r.events.states()[broken.app.app_id] === "failed", "the broken app failed", 15_000);
    expect(r.events.states()[good.app.app_id]).toBe("connected");
    const messageId = await cardTo(r.gateway, good.app, good.user);
    expect(
      await emulator.clickCard(messageId, { operator_open_id: good.user.open_id, index: 0 }),
    ).toMatchObject({ acked: true, toast: DECLINED.toast });
    expect(seen).toEqual([good.app.app_id]);
    // The broken secret appears in no log line, and neither does the good one.
    const text = r.logs.lines.join("\n");
    expect(text).not.toContain(good.app.app_secret);
    expect(text).not.toContain("not-the-secret");
  });
});
