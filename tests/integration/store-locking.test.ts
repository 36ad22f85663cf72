import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRaw, createTestDatabase, type PgClient, type TestDatabase } from "../support/db.js";

/** How long a statement that must wait is given to (wrongly) finish. */
const WAIT_MS = 300;

/** "pending" while `p` has not settled after `ms`. */
async function stateAfter(p: Promise<unknown>, ms: number): Promise<"settled" | "pending"> {
  const late = new Promise<"pending">((r) => setTimeout(() => r("pending"), ms));
  return Promise.race([p.then(() => "settled" as const), late]);
}

/**
 * The locking the flow and token code relies on, on whichever database the run uses (embedded.ts
 * states the embedded design: transactions are serialised, so locks keep their meaning).
 */
describe("locking, on PostgreSQL and embedded alike", () => {
  let t: TestDatabase;
  /** Two connections of the test's own, beside the pool's (the embedded server admits a few more). */
  let a: PgClient;
  let b: PgClient;

  beforeAll(async () => {
    t = await createTestDatabase();
    a = await connectRaw(t.url);
    b = await connectRaw(t.url);
    await a.query("create table lock_probe (id int primary key, n int not null)");
    await a.query("create table job (id int primary key)");
    await a.query("create table job_claim (job_id int not null, worker int not null)");
  });
  afterAll(async () => {
    await Promise.all([a, b].map((c) => c?.end().catch(() => {})));
    await t?.close();
  });

  it("makes a second SELECT FOR UPDATE wait for the first transaction, then see its write", async () => {
    await a.query("insert into lock_probe values (1, 0)");
    await a.query("begin");
    await a.query("select n from lock_probe where id = 1 for update");
    const second = (async () => {
      await b.query("begin");
      const row = await b.query("select n from lock_probe where id = 1 for update");
      await b.query("commit");
      return row.rows[0]?.n;
    })();
    expect(await stateAfter(second, WAIT_MS)).toBe("pending");
    await a.query("update lock_probe set n = n + 1 where id = 1");
    await a.query("commit");
    expect(await second).toBe(1);
  });

  it("lets one of many transactions do the work under an advisory xact lock (single flight)", async () => {
    await t.db.em().getConnection().execute("insert into lock_probe values (2, 0)");
    let inside = 0;
    let most = 0;
    const attempt = () =>
      t.db.em().transactional(async (em) => {
        await em.execute("select pg_advisory_xact_lock(hashtext('lock_probe.2'))");
        most = Math.max(most, ++inside);
        const [row] = await em.execute<{ n: number }[]>("select n from lock_probe where id = 2");
        // The slow upstream call: the others must wait here, then find the work done.
        await em.execute("select pg_sleep(0.02)");
        if (row?.n === 0) await em.execute("update lock_probe set n = n + 1 where id = 2");
        inside--;
        return row?.n === 0;
      });
    const did = await Promise.all(Array.from({ length: 6 }, attempt));
    expect(did.filter(Boolean)).toHaveLength(1);
    expect(most).toBe(1);
  });

  it("gives SKIP LOCKED workers disjoint rows, each row claimed once", async () => {
    const jobs = Array.from({ length: 24 }, (_, i) => i + 1);
    await t.db.em().getConnection().execute(`insert into job select generate_series(1, ${jobs.length})`);
    const worker = async (id: number) => {
      for (;;) {
        const claimed = await t.db.em().transactional(async (em) => {
          const rows = await em.execute<{ id: number }[]>(
            "select id from job where id not in (select job_id from job_claim) order by id limit 3 for update skip locked",
          );
          for (const r of rows) await em.execute("insert into job_claim values (?, ?)", [r.id, id]);
          await em.execute("select pg_sleep(0.01)");
          return rows.length;
        });
        if (claimed === 0) return;
      }
    };
    await Promise.all([1, 2, 3].map(worker));
    const claims = await t.db
      .em()
      .getConnection()
      .execute<{ job_id: number }[]>("select job_id from job_claim order by job_id");
    expect(claims.map((c) => c.job_id)).toEqual(jobs);
  });

  it("holds back work on another connection while a transaction is open only where rows conflict (PostgreSQL) or always (embedded)", async () => {
    // Why awaiting another connection inside a transaction is forbidden: embedded, it never finishes.
    await a.query("begin");
    await a.query("select 1");
    const outside = b.query("select 1");
    const expected = t.db.mode === "embedded" ? "pending" : "settled";
    expect(await stateAfter(outside, WAIT_MS)).toBe(expected);
    await a.query("commit");
    await expect(outside).resolves.toBeDefined();
  });
});
