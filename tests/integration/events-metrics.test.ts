import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { rejection } from "../support/rpc.js";
import {
  ADMIN_KEY,
  openWs,
  overflow,
  type Replica,
  record,
  startReplica,
  TEST_APP_ID,
  writeEvent,
} from "./events-harness.js";

/** The samples of the app's /metrics whose name starts with `prefix`, as "name{labels}" -> value. */
async function scrape(r: Replica, prefix: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${r.httpUrl}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

async function sample(r: Replica, series: string): Promise<number> {
  const name = series.split("{")[0] as string;
  return (await scrape(r, name)).get(series) ?? 0;
}

/** Polls the metric until `check` holds (metrics move asynchronously to the client's view). */
async function eventually(r: Replica, series: string, check: (v: number) => boolean): Promise<number> {
  let value = await sample(r, series);
  const deadline = Date.now() + 20_000;
  while (!check(value)) {
    if (Date.now() > deadline) throw new Error(`${series} stayed at ${value}`);
    await new Promise((res) => setTimeout(res, 50));
    value = await sample(r, series);
  }
  return value;
}

describe("event metrics on /metrics", () => {
  let t: TestDatabase;
  let r: Replica;

  beforeAll(async () => {
    t = await createTestDatabase();
    r = await startReplica(t.db, { maxBuffered: 8 });
  });
  afterAll(async () => {
    await r?.close();
    await t?.close();
  });

  it("counts open watchers per transport, why they ended, and the delivery lag of events", async () => {
    expect(await sample(r, 'lark_auth_event_watchers{transport="grpc"}')).toBe(0);
    expect(await sample(r, 'lark_auth_event_watchers{transport="websocket"}')).toBe(0);
    const lagBefore = await sample(r, "lark_auth_event_delivery_lag_seconds_count");

    const rpc = record(r.client(), { appId: TEST_APP_ID });
    const ws = openWs(r, `?app_id=${TEST_APP_ID}`, { header: `Bearer ${ADMIN_KEY}` });
    await eventually(r, 'lark_auth_event_watchers{transport="grpc"}', (v) => v === 1);
    await eventually(r, 'lark_auth_event_watchers{transport="websocket"}', (v) => v === 1);

    await writeEvent(t.db, "SESSION_CREATED");
    r.app.events.notifyEventsCommitted();
    await rpc.waitFor(1);
    await eventually(r, "lark_auth_event_delivery_lag_seconds_count", (v) => v >= lagBefore + 1);

    rpc.abort.abort();
    ws.ws.close();
    await ws.closed;
    await eventually(r, 'lark_auth_event_watchers{transport="grpc"}', (v) => v === 0);
    await eventually(r, 'lark_auth_event_watchers{transport="websocket"}', (v) => v === 0);
    const grpcCancelled = 'lark_auth_event_watchers_ended_total{transport="grpc",reason="CANCELLED"}';
    const wsCancelled = 'lark_auth_event_watchers_ended_total{transport="websocket",reason="CANCELLED"}';
    expect(await eventually(r, grpcCancelled, (v) => v >= 1)).toBe(1);
    expect(await eventually(r, wsCancelled, (v) => v >= 1)).toBe(1);
  });

  it("counts a watcher ended for falling behind as WATCHER_TOO_SLOW", async () => {
    const stream = r.client().watchAuthEvents({ appId: TEST_APP_ID })[Symbol.asyncIterator]();
    await eventually(r, 'lark_auth_event_watchers{transport="grpc"}', (v) => v === 1);
    // The client reads nothing while thousands of events arrive: far more than 8 queued messages.
    await overflow(t.db, r, "0");
    const slow = 'lark_auth_event_watchers_ended_total{transport="grpc",reason="WATCHER_TOO_SLOW"}';
    await eventually(r, slow, (v) => v === 1);
    await eventually(r, 'lark_auth_event_watchers{transport="grpc"}', (v) => v === 0);
    await rejection(
      (async () => {
        for (;;) if ((await stream.next()).done) return;
      })(),
    );
  });
});
