// The token read audit trail against the real database: every read written with who, which app and
// user, which RPC and when; a failed write kept for the next one; a full buffer drops the oldest
// waiting reads, never the batch in flight, and reports how many.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenRead } from "../../src/domain/grants/grant.js";
import { createTokenAuditWriter } from "../../src/store/token-audit-store.js";
import { connectRaw, createTestDatabase, type TestDatabase } from "../support/db.js";

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.close());

/** Reads of one app; `openId` tells them apart. */
const reads = (app: string, from: number, to: number): TokenRead[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    caller: `caller "${from + i}"\\`,
    appId: app,
    openId: `ou_${from + i}`,
    rpc: "GetUserAccessToken",
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, from + i)),
  }));

async function written(app: string) {
  return t.db
    .em()
    .execute<{ caller: string; open_id: string; rpc: string; occur_time: Date | string }[]>(
      "select caller, open_id, rpc, occur_time from token_access_audit where app_id = ? order by occur_time",
      [app],
    );
}

describe("the token audit trail", () => {
  it("writes every read in batches: caller, app, user, RPC and time, exactly as recorded", async () => {
    const audit = createTokenAuditWriter(t.db, { batchSize: 100, intervalMs: 60_000 });
    const all = reads("cli_batches", 1, 250);
    for (const read of all) audit.record(read);
    await audit.close();
    const rows = await written("cli_batches");
    expect(rows.map((r) => r.open_id)).toEqual(all.map((r) => r.openId));
    expect(rows[0]?.caller).toBe('caller "1"\\');
    expect(rows[0]?.rpc).toBe("GetUserAccessToken");
    expect(new Date(rows[0]?.occur_time as string).toISOString()).toBe("2026-01-01T00:00:01.000Z");
  });

  it("keeps the rows of a failed write and writes them with the next flush, in order", async () => {
    const errors: number[] = [];
    const audit = createTokenAuditWriter(t.db, {
      intervalMs: 60_000,
      onError: (_err, pending) => errors.push(pending),
    });
    const other = await connectRaw(t.url);
    try {
      await other.query(
        "alter table token_access_audit add constraint audit_test_refuses check (app_id <> 'cli_retry')",
      );
      for (const read of reads("cli_retry", 1, 3)) audit.record(read);
      await audit.flush();
      expect(errors).toEqual([3]);
      audit.record(reads("cli_retry", 4, 4)[0] as TokenRead);
      await other.query("alter table token_access_audit drop constraint audit_test_refuses");
      await audit.close();
    } finally {
      await other.end();
    }
    expect((await written("cli_retry")).map((r) => r.open_id)).toEqual(["ou_1", "ou_2", "ou_3", "ou_4"]);
  });

  it("when full, drops the oldest waiting reads (never the batch in flight) and reports the count", async () => {
    const dropped: number[] = [];
    const audit = createTokenAuditWriter(t.db, {
      batchSize: 2,
      maxBuffered: 5,
      intervalMs: 60_000,
      onDropped: (n) => dropped.push(n),
    });
    const other = await connectRaw(t.url);
    let flushed: Promise<void>;
    try {
      // The table (PostgreSQL) or the whole embedded session is held: the first batch waits in flight.
      await other.query("begin");
      await other.query("lock table token_access_audit in access exclusive mode");
      for (const read of reads("cli_full", 1, 2)) audit.record(read);
      flushed = audit.flush();
      // 2 in flight + 3 waiting fill the buffer; reads 7..9 push out 3..6.
      for (const read of reads("cli_full", 3, 9)) audit.record(read);
    } finally {
      await other.query("rollback");
      await other.end();
    }
    await flushed;
    await audit.close();
    expect(dropped).toEqual([4]);
    expect((await written("cli_full")).map((r) => r.open_id)).toEqual([
      "ou_1",
      "ou_2",
      "ou_7",
      "ou_8",
      "ou_9",
    ]);
  });
});
