import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventPruner } from "../../src/jobs/event-pruner.js";
import { createRetentionStore } from "../../src/store/retention-store.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { reasonOf, rejection } from "../support/rpc.js";
import { type Replica, record, startReplica, writeEvent } from "./events-harness.js";

describe("event retention", () => {
  let t: TestDatabase;
  let r: Replica;
  const silent = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    r = await startReplica(t.db);
  });
  afterAll(async () => {
    await r?.close();
    await t?.close();
  });

  it("prunes only events past the window, from two pruners at once; older cursors become OUT_OF_RANGE", async () => {
    const old: string[] = [];
    for (let i = 0; i < 7; i++) old.push(await writeEvent(t.db, "SESSION_CREATED"));
    await t.db.em().execute("update auth_event set occur_time = now() - interval '25 hours'");
    const fresh = await writeEvent(t.db, "SESSION_CREATED");
    const store = createRetentionStore(t.db);
    const pruner = (batchSize: number) =>
      createEventPruner({
        prune: store.pruneEvents,
        clock: { now: () => new Date() },
        logger: silent,
        options: { batchSize },
      });
    const signal = new AbortController().signal;
    await Promise.all([pruner(2).run(signal), pruner(3).run(signal)]);
    const left = await t.db.em().execute<{ id: string }[]>("select id from auth_event order by id");
    expect(left.map((x) => String(x.id))).toEqual([fresh]);
    const expired = await rejection(
      (async () => {
        for await (const _ of r.client().watchAuthEvents({ afterEventId: old[3] })) break;
      })(),
    );
    expect(expired.code).toBe(Code.OutOfRange);
    expect(reasonOf(expired)).toBe("CURSOR_EXPIRED");
    // The newest pruned id is a valid cursor: nothing after it was lost.
    const ok = record(r.client(), { afterEventId: old.at(-1) });
    await ok.waitFor(1);
    expect(ok.ids()).toEqual([fresh]);
    const oldest = record(r.client(), { fromOldest: true });
    await oldest.waitFor(1);
    expect(oldest.ids()).toEqual([fresh]);
    ok.abort.abort();
    oldest.abort.abort();
  });
});
