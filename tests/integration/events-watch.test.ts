import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthEventType } from "../../gen/lark/auth/v1/types_pb.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { openId } from "../support/factories.js";
import { reasonOf, rejection } from "../support/rpc.js";
import {
  OTHER_APP_ID,
  overflow,
  type Replica,
  record,
  startReplica,
  TEST_APP_ID,
  until,
  WATCH_KEY,
  writeBurst,
  writeEvent,
} from "./events-harness.js";

describe("WatchAuthEvents on one replica", () => {
  let t: TestDatabase;
  let r: Replica;
  const write = async (...args: Parameters<typeof writeEvent> extends [unknown, ...infer R] ? R : never) => {
    const id = await writeEvent(t.db, ...args);
    r.app.events.notifyEventsCommitted();
    return id;
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    r = await startReplica(t.db);
  });
  afterAll(async () => {
    await r?.close();
    await t?.close();
  });

  it.each(["grpc", "connect"] as const)(
    "streams new events in order over %s, with bookmarks",
    async (kind) => {
      const w = record(r.client(undefined, kind), { appId: TEST_APP_ID });
      await until(() => w.bookmarks.length > 0, 10_000, "a first bookmark");
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await write("SESSION_CREATED"));
      await w.waitFor(5);
      expect(w.ids()).toEqual(ids);
      const first = w.events[0]?.kind.value;
      expect(first && "session" in first && first.session?.appId).toBe(TEST_APP_ID);
      expect(first && "type" in first && first.type).toBe(AuthEventType.SESSION_CREATED);
      const bookmarksBefore = w.bookmarks.length;
      await until(() => w.bookmarks.length > bookmarksBefore, 10_000, "a later bookmark");
      expect(BigInt(w.bookmarks.at(-1) as string)).toBeGreaterThanOrEqual(BigInt(ids.at(-1) as string));
      w.abort.abort();
      await w.ended;
    },
  );

  it("resumes exactly after after_event_id, and from_oldest replays everything retained", async () => {
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await write("SESSION_CREATED"));
    const resumed = record(r.client(), { afterEventId: ids[2] });
    await resumed.waitFor(3);
    expect(resumed.ids().slice(0, 3)).toEqual(ids.slice(3));
    const [{ n }] = (await t.db.em().execute("select count(*)::int as n from auth_event")) as [{ n: number }];
    const oldest = record(r.client(), { fromOldest: true });
    await oldest.waitFor(n);
    const all = oldest.ids();
    expect(all.slice(-6)).toEqual(ids);
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort((a, b) => Number(BigInt(a) - BigInt(b)))).toEqual(all);
    const later = await write("AUTHORIZED", { state: "AUTHORIZED" });
    await resumed.waitFor(4);
    await oldest.waitFor(all.length + 1);
    expect(resumed.ids().at(-1)).toBe(later);
    expect(oldest.ids().at(-1)).toBe(later);
    resumed.abort.abort();
    oldest.abort.abort();
  });

  it("replays a session's history to a watcher that subscribes after its terminal event", async () => {
    const user = { kind: "open_id" as const, value: openId() };
    const base = { id: crypto.randomUUID(), user };
    const created = await write("SESSION_CREATED", base);
    await write("SESSION_CREATED"); // another session's event, in between
    const done = await write("AUTHORIZED", { ...base, state: "AUTHORIZED" });
    const w = record(r.client(), { sessionId: base.id });
    await w.waitFor(2);
    expect(w.ids()).toEqual([created, done]);
    const ev = w.events[1]?.kind.value;
    expect(ev && "session" in ev && ev.session?.state).toBe(2); // AUTHORIZED
    expect(ev && "identity" in ev && ev.identity?.openId).toBe(user.value);
    w.abort.abort();
  });

  it("filters by type and by user", async () => {
    const who = openId();
    const byType = record(r.client(), { types: [AuthEventType.DECLINED] });
    const byUser = record(r.client(), { user: { id: { case: "openId", value: who } } });
    await until(() => byType.bookmarks.length > 0 && byUser.bookmarks.length > 0, 10_000, "bookmarks");
    await write("SESSION_CREATED");
    const declined = await write("DECLINED", { state: "DECLINED" });
    const mine = await write("SESSION_CREATED", {
      user: { kind: "open_id", value: who },
      identity: { openId: who },
    });
    await byType.waitFor(1);
    await byUser.waitFor(1);
    await until(
      () => BigInt(byType.bookmarks.at(-1) ?? 0) >= BigInt(mine),
      10_000,
      "bookmark past the writes",
    );
    expect(byType.ids()).toEqual([declined]);
    expect(byUser.ids()).toEqual([mine]);
    byType.abort.abort();
    byUser.abort.abort();
  });

  it("without app_id, delivers only the apps where the key holds auth:watch", async () => {
    const w = record(r.client(WATCH_KEY));
    await until(() => w.bookmarks.length > 0, 10_000, "a bookmark");
    await write("SESSION_CREATED", { appId: OTHER_APP_ID });
    const visible = await write("SESSION_CREATED");
    await write("SESSION_CREATED", { appId: OTHER_APP_ID });
    await w.waitFor(1);
    await until(() => BigInt(w.bookmarks.at(-1) ?? 0) > BigInt(visible), 10_000, "bookmark past the writes");
    expect(w.ids()).toEqual([visible]);
    w.abort.abort();
    const denied = await rejection(
      (async () => {
        for await (const _ of r.client(WATCH_KEY).watchAuthEvents({ appId: OTHER_APP_ID })) break;
      })(),
    );
    expect(denied.code).toBe(Code.PermissionDenied);
  });

  it("answers OUT_OF_RANGE for a cursor older than the retained events", async () => {
    const old = await write("SESSION_CREATED");
    await write("SESSION_CREATED");
    const kept = await write("SESSION_CREATED");
    await t.db.em().execute("delete from auth_event where id <= ?", [BigInt(kept) - 1n]);
    const err = await rejection(
      (async () => {
        for await (const _ of r.client().watchAuthEvents({ afterEventId: old })) break;
      })(),
    );
    expect(err.code).toBe(Code.OutOfRange);
    expect(reasonOf(err)).toBe("CURSOR_EXPIRED");
    // The cursor right at the horizon lost nothing: it resumes.
    const ok = record(r.client(), { afterEventId: (BigInt(kept) - 1n).toString() });
    await ok.waitFor(1);
    expect(ok.ids()[0]).toBe(kept);
    ok.abort.abort();
    const bad = await rejection(
      (async () => {
        for await (const _ of r.client().watchAuthEvents({ afterEventId: "not-a-cursor" })) break;
      })(),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    // Nineteen digits beyond a bigint: refused before any database read, not retried for ever.
    const huge = await rejection(
      (async () => {
        for await (const _ of r.client().watchAuthEvents({ afterEventId: "9999999999999999999" })) break;
      })(),
    );
    expect(huge.code).toBe(Code.InvalidArgument);
  });

  it("answers OUT_OF_RANGE CURSOR_UNKNOWN for a cursor ahead of every event issued (another deployment's)", async () => {
    const newest = await write("SESSION_CREATED");
    const err = await rejection(
      (async () => {
        for await (const _ of r
          .client()
          .watchAuthEvents({ afterEventId: (BigInt(newest) + 1000n).toString() }))
          break;
      })(),
    );
    expect(err.code).toBe(Code.OutOfRange);
    expect(reasonOf(err)).toBe("CURSOR_UNKNOWN");
    // The newest id itself is a valid cursor: the watcher waits for what comes next.
    const ok = record(r.client(), { afterEventId: newest });
    const next = await write("SESSION_CREATED");
    await ok.waitFor(1);
    expect(ok.ids()).toEqual([next]);
    ok.abort.abort();
  });

  it("keeps a watcher that keeps reading through a burst many times its buffer", async () => {
    const small = await startReplica(t.db, { maxBuffered: 8 });
    try {
      // Live from the start (no cursor): the burst reaches it through the hub's fan-out, not catch-up.
      const reader = record(small.client(), { appId: TEST_APP_ID });
      await until(() => small.app.events.stats().watchers === 1);
      const first = await write("SESSION_CREATED");
      small.app.events.notifyEventsCommitted();
      await reader.waitFor(1);
      const written = await writeBurst(t.db, 400, first);
      small.app.events.notifyEventsCommitted();
      await reader.waitFor(written.length + 1, 60_000);
      expect(reader.ids()).toEqual([first, ...written]);
      expect(small.app.events.stats().watchers).toBe(1);
      reader.abort.abort();
    } finally {
      await small.close();
    }
  });

  it("ends a watcher that falls behind with RESOURCE_EXHAUSTED WATCHER_TOO_SLOW; it resumes with no gap or duplicate", async () => {
    const slow = await startReplica(t.db, { maxBuffered: 8 });
    try {
      const client = slow.client();
      const stream = client.watchAuthEvents({ appId: TEST_APP_ID })[Symbol.asyncIterator]();
      const first = await write("SESSION_CREATED");
      slow.app.events.notifyEventsCommitted();
      const got: string[] = [];
      for (;;) {
        const m = await stream.next();
        if (!m.done && m.value.kind.case === "event") {
          got.push(m.value.kind.value.eventId);
          break;
        }
      }
      expect(got).toEqual([first]);
      // The client stops reading while thousands of events arrive.
      const written: string[] = [first, ...(await overflow(t.db, slow, first))];
      const err = await rejection(
        (async () => {
          for (;;) {
            const m = await stream.next();
            if (m.done) return;
            if (m.value.kind.case === "event") got.push(m.value.kind.value.eventId);
          }
        })(),
      );
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(reasonOf(err)).toBe("WATCHER_TOO_SLOW");
      expect(got.length).toBeLessThan(written.length);
      const resumed = record(client, { appId: TEST_APP_ID, afterEventId: got.at(-1) });
      await resumed.waitFor(written.length - got.length);
      expect([...got, ...resumed.ids()]).toEqual(written);
      resumed.abort.abort();
    } finally {
      await slow.close();
    }
  }, 120_000);
});
