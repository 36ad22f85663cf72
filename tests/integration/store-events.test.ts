import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthEventSchema } from "../../src/store/entities/index.js";
import { connectRaw, createTestDatabase, type PgClient, type TestDatabase } from "../support/db.js";
import { FACTORY_APP_ID, seedApp } from "../support/factories.js";

/** An event tagged by `reason` ($2): the id an insert returns is provisional, the final one comes at commit. */
const INSERT =
  "insert into auth_event (type, app_id, reason, payload) values ('SESSION_CREATED', $1, $2, '{}')";

describe("auth event log", () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedApp(t.db);
  });
  afterAll(async () => t?.close());

  it("keeps the payload as written", async () => {
    const em = t.db.em();
    const payload = { session: { id: "s-1", state: "PENDING" }, note: "ünïcode" };
    em.create(AuthEventSchema, {
      type: "SESSION_CREATED",
      appId: FACTORY_APP_ID,
      reason: "PAYLOAD",
      payload,
    });
    await em.flush();
    expect((await t.db.em().findOneOrFail(AuthEventSchema, { reason: "PAYLOAD" })).payload).toEqual(payload);
  });

  it("never lets a reader polling by id skip an event whose writer commits late", async () => {
    // Writers insert first and commit after a random pause, as a slow flow would; a reader polling
    // "id > cursor" must still see every event, in increasing id order. Ids are only safe cursors
    // because final ids are taken and committed one writer at a time (the deferred trigger's
    // advisory lock inside COMMIT; embedded: one session).
    const reader = await connectRaw(t.url);
    const [{ max }] = (await reader.query("select coalesce(max(id), 0)::text as max from auth_event"))
      .rows as [{ max: string }];
    let cursor = BigInt(max);
    const seen: bigint[] = [];
    const tags: string[] = [];
    let writing = true;
    const poll = async () => {
      const { rows } = await reader.query(
        "select id::text as id_text, reason from auth_event where id > $1 order by id",
        [cursor.toString()],
      );
      for (const r of rows) {
        seen.push(BigInt(r.id_text as string));
        tags.push(String(r.reason));
      }
      if (rows.length > 0) cursor = seen[seen.length - 1] as bigint;
    };
    const polling = (async () => {
      while (writing) {
        await poll();
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const writes = Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.db.em().transactional(async (em) => {
          await em.execute(INSERT.replace("$1", "?").replace("$2", "?"), [FACTORY_APP_ID, `LATE_${i}`]);
          await em.execute("select pg_sleep(random() * 0.03)");
          return `LATE_${i}`;
        }),
      ),
    );
    const written = await writes.finally(() => {
      writing = false;
    });
    await polling;
    await poll();
    await reader.end();
    expect([...tags].sort()).toEqual([...written].sort());
    expect(seen).toEqual([...seen].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(seen).size).toBe(seen.length);
  });

  /** Runs `body` with two connections of its own, closed afterwards. */
  async function withTwoConnections(body: (a: PgClient, b: PgClient) => Promise<void>): Promise<void> {
    const a = await connectRaw(t.url);
    const b = await connectRaw(t.url);
    try {
      await body(a, b);
    } finally {
      await a.end();
      await b.end();
    }
  }

  /** "pending" while `p` has not settled after `ms`. */
  async function stateAfter(p: Promise<unknown>, ms: number): Promise<"settled" | "pending"> {
    const late = new Promise<"pending">((r) => setTimeout(() => r("pending"), ms));
    return Promise.race([p.then(() => "settled" as const), late]);
  }

  it("holds a second event writer back while one that took its final id is open, so ids become visible in order", () =>
    withTwoConnections(async (a, b) => {
      await a.query("begin");
      // IMMEDIATE (what store/event-writer.ts does to learn the id): the lock is taken at the insert.
      await a.query('set constraints "auth_event_serialize_writers" immediate');
      await a.query(INSERT, [FACTORY_APP_ID, "FIRST"]);
      const second = b.query(INSERT, [FACTORY_APP_ID, "SECOND"]);
      expect(await stateAfter(second, 300)).toBe("pending");
      await a.query("commit");
      await second;
      const { rows } = await a.query(
        "select reason from auth_event where reason in ('FIRST', 'SECOND') order by id",
      );
      expect(rows.map((r) => r.reason)).toEqual(["FIRST", "SECOND"]);
    }));

  it("takes the lock and the final id inside COMMIT by default, so an open writer holds nobody back", () =>
    withTwoConnections(async (a, b) => {
      await a.query("begin");
      await a.query(INSERT, [FACTORY_APP_ID, "OPEN"]);
      // On PostgreSQL the other writer commits at once; on embedded PGlite the one session serialises
      // whole transactions, so there it waits for the commit below instead.
      const other = b.query(INSERT, [FACTORY_APP_ID, "COMMITTED_FIRST"]);
      if (process.env.TEST_DATABASE_URL) expect(await stateAfter(other, 2_000)).toBe("settled");
      await a.query("commit");
      await other;
      const { rows } = await a.query(
        "select reason from auth_event where reason in ('OPEN', 'COMMITTED_FIRST') order by id",
      );
      // Final ids follow commit order, whatever order the rows were inserted in.
      const expected = process.env.TEST_DATABASE_URL
        ? ["COMMITTED_FIRST", "OPEN"]
        : ["OPEN", "COMMITTED_FIRST"];
      expect(rows.map((r) => r.reason)).toEqual(expected);
    }));

  it("does not hold writers back once the writing transaction rolls back", () =>
    withTwoConnections(async (a, b) => {
      await a.query("begin");
      await a.query(INSERT, [FACTORY_APP_ID, "ROLLED_BACK"]);
      await a.query("rollback");
      expect(await stateAfter(b.query(INSERT, [FACTORY_APP_ID, "AFTER"]), 2_000)).toBe("settled");
    }));
});
