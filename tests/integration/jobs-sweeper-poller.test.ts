// The retention pruner, the expiry job's batching and the device poller against a real database
// and the real emulator's device authorization grant.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppView, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { createDevicePoller, type DeviceOutcome } from "../../src/jobs/device-poller.js";
import { createLarkLimiters } from "../../src/jobs/limits.js";
import { createSessionSweeper } from "../../src/jobs/session-sweeper.js";
import { createCardWorkStore } from "../../src/store/card-work-store.js";
import { createDeviceWorkStore } from "../../src/store/device-work-store.js";
import { createRetentionStore } from "../../src/store/retention-store.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { emulatorGateway } from "../support/emulator-gateway.js";
import { buildSession, FACTORY_APP_ID, seedApp } from "../support/factories.js";

let t: TestDatabase;
let emulator: RunningEmulator;
let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
const apps: AppView[] = [];
const logger = { error() {}, warn() {}, info() {}, debug() {} } as never;
const DAY = 24 * 3600 * 1000;
// A reversible stand-in for src/crypto/seal.ts: the test checks the store seals and opens with the row's AAD.
const sealer = {
  seal: (plain: string, aad: string) => `v1.test.${Buffer.from(`${aad}|${plain}`).toString("base64url")}`,
  open: (sealed: string, aad: string) => {
    const [boundTo, plain] = Buffer.from(sealed.split(".")[2] as string, "base64url")
      .toString()
      .split("|");
    if (boundTo !== aad) throw new Error("sealed for another row");
    return plain as string;
  },
};

beforeAll(async () => {
  t = await createTestDatabase();
  await seedApp(t.db);
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator?.close();
  await t?.close();
});

const count = async (sql: string, params: unknown[] = []) =>
  (await t.db.em().execute<{ n: number }[]>(`select count(*)::int as n from ${sql}`, params))[0]?.n;

describe("session sweeper", () => {
  it("prunes finished sessions past the retention in batches, keeping the rest and the event log", async () => {
    const sessions = createSessionStore(t.db);
    const now = Date.now();
    const old = (d: number) => ({
      createTime: new Date(now - d * DAY),
      completeTime: new Date(now - d * DAY + 1000),
    });
    const doomed = [
      buildSession({ state: "AUTHORIZED", ...old(9) }),
      buildSession({ state: "EXPIRED", ...old(8) }),
      buildSession({ state: "FAILED", ...old(8) }),
    ];
    const kept = [buildSession({ state: "DECLINED", ...old(6) }), buildSession({})];
    for (const s of [...doomed, ...kept]) await sessions.insert(s);
    await t.db
      .em()
      .execute(
        `insert into auth_event (type, app_id, occur_time, payload) values ('SESSION_CREATED', ?, ?, '{}'), ('SESSION_CREATED', ?, ?, '{}')`,
        [FACTORY_APP_ID, new Date(now - 8 * DAY), FACTORY_APP_ID, new Date(now - DAY)],
      );
    const sweeper = createSessionSweeper({
      expire: async () => 0,
      retention: createRetentionStore(t.db),
      clock,
      logger,
      options: { batchSize: 2 },
    });
    await sweeper.retention.run(new AbortController().signal);
    for (const s of doomed) expect(await sessions.get(s.id)).toBeUndefined();
    for (const s of kept) expect(await sessions.get(s.id)).toBeDefined();
    // The event log has its own window (event-pruner.ts); the session sweeper leaves it alone.
    expect(await count("auth_event")).toBe(2);
  });

  it("expires in batches until a short batch, within the tick's budget", async () => {
    const asked: number[] = [];
    const left = [10, 10, 3, 10];
    const sweeper = createSessionSweeper({
      expire: async (limit) => {
        asked.push(limit);
        return left.shift() ?? 0;
      },
      retention: createRetentionStore(t.db),
      clock,
      logger,
      options: { batchSize: 10, maxBatches: 5 },
    });
    await sweeper.expiry.run(new AbortController().signal);
    expect(asked).toEqual([10, 10, 10]);
  });
});

describe("device poller", () => {
  /** A pending device session whose device authorization was started at the emulator, due for a poll. */
  async function deviceSession() {
    const app = emulator.registerApp({});
    apps.push(app);
    await seedApp(t.db, { appId: app.app_id, flow: "device" });
    const user = emulator.createUser({
      name: "Dev",
      seed: randomBytes(6).toString("hex"),
      app_id: app.app_id,
    });
    const session = buildSession({
      appId: app.app_id,
      flow: "DEVICE",
      user: { kind: "open_id", value: user.open_id },
    });
    await createSessionStore(t.db).insert(session);
    const d = await emulatorGateway(emulator, [app]).startDeviceAuthorization(app.app_id, ["offline_access"]);
    await createCardWorkStore(t.db, sealer).saveDeviceAuthorization(session.id, {
      deviceCode: d.deviceCode,
      authorizeUrl: d.verificationUriComplete,
      userCode: d.userCode,
      intervalSeconds: d.interval,
      nextPollTime: clock.now(),
    });
    return { session, url: d.verificationUriComplete, openId: user.open_id };
  }

  function poller(outcomes: Map<string, DeviceOutcome>) {
    return createDevicePoller({
      store: createDeviceWorkStore(t.db, sealer),
      gateway: emulatorGateway(emulator, apps),
      limiter: createLarkLimiters().devicePoll,
      complete: async (id, outcome) => void outcomes.set(id, outcome),
      clock,
      logger,
    });
  }

  const pollState = async (id: string) =>
    (
      await t.db
        .em()
        .execute<{ at: Date; interval: number }[]>(
          "select device_next_poll_time as at, device_interval_seconds as interval from auth_session where id = ?",
          [id],
        )
    )[0];

  it("waits the interval while pending, adds 5 s on slow_down, and hands over approval and denial", async () => {
    // Generous, so the second poll below lands inside the emulator's real interval even on a busy machine.
    emulator.configure({ device_poll_interval: 3 });
    const outcomes = new Map<string, DeviceOutcome>();
    const pending = await deviceSession();
    const approved = await deviceSession();
    const denied = await deviceSession();
    // The gateway knows the apps it was built with: build the poller once they are registered.
    const job = poller(outcomes);
    expect(emulator.decide({ url: approved.url, open_id: approved.openId, decision: "approve" }).ok).toBe(
      true,
    );
    expect(emulator.decide({ url: denied.url, open_id: denied.openId, decision: "deny" }).ok).toBe(true);

    await job.run(new AbortController().signal);
    expect(outcomes.get(approved.session.id)).toMatchObject({ status: "authorized" });
    expect(outcomes.get(denied.session.id)).toEqual({ status: "denied" });
    expect(outcomes.has(pending.session.id)).toBe(false);
    const first = await pollState(pending.session.id);
    expect(first?.interval).toBe(3);
    expect(new Date(first?.at as Date).getTime() - clock.now().getTime()).toBeGreaterThan(0);

    // Our clock says the interval passed; the emulator's real one does not: it answers slow_down.
    offsetMs += 4000;
    await job.run(new AbortController().signal);
    const second = await pollState(pending.session.id);
    expect(second?.interval).toBe(8);
    const wait = new Date(second?.at as Date).getTime() - clock.now().getTime();
    expect(wait).toBeGreaterThan(7000);
    expect(wait).toBeLessThanOrEqual(8000);
    // Not due again before the slowed-down interval.
    await job.run(new AbortController().signal);
    expect((await pollState(pending.session.id))?.interval).toBe(8);
    expect(await count("auth_session where id = ? and state = 'PENDING'", [pending.session.id])).toBe(1);
  });
});
