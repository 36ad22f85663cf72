import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthEventSchema } from "../../src/store/entities/index.js";
import { connectRaw, createTestDatabase, type PgClient, type TestDatabase } from "../support/db.js";
import { FACTORY_APP_ID, seedApp } from "../support/factories.js";

const INSERT =
  "insert into auth_event (type, app_id, payload) values ('SESSION_CREATED', $1, '{}') returning id";

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
    const row = em.create(AuthEventSchema, { type: "SESSION_CREATED", appId: FACTORY_APP_ID, payload });
    await em.flush();
    expect((await t.db.em().findOneOrFail(AuthEventSchema, { id: row.id })).payload).toEqual(payload);
  });

  it("never lets a reader polling by id skip an event whose writer commits late", async () => {
    // Writers take their id first and commit after a random pause, as a slow flow would; a
    // reader polling "id > cursor" must still see every event. Ids are only safe cursors because
    // writers are serialised until commit (the trigger's advisory lock; embedded: one session).
    const reader = await connectRaw(t.url);
    const [{ max }] = (await reader.query("select coalesce(max(id), 0)::text as max from auth_event"))
      .rows as [{ max: string }];
    let cursor = BigInt(max);
    const seen: bigint[] = [];
    let writing = true;
    const poll = async () => {
      const { rows } = await reader.query(
        "select id::text as id_text from auth_event where id > $1 order by id",
        [cursor.toString()],
      );
      for (const r of rows) seen.push(BigInt(r.id_text as string));
      if (rows.length > 0) cursor = seen[seen.length - 1] as bigint;
    };
    const polling = (async () => {
      while (writing) {
        await poll();
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const writes = Promise.all(
      Array.from({ length: 12 }, () =>
        t.db.em().transactional(async (em) => {
          const [row] = await em.execute<{ id: string }[]>(INSERT.replace("$1", "?"), [FACTORY_APP_ID]);
          await em.execute("select pg_sleep(random() * 0.03)");
          return BigInt(row?.id as string);
        }),
      ),
    );
    const written = await writes.finally(() => {
      writing = false;
    });
    await polling;
    await poll();
    await reader.end();
    expect(seen).toEqual([...written].sort((a, b) => (a < b ? -1 : 1)));
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

  it("holds a second event writer back until the first commits, so ids become visible in order", () =>
    withTwoConnections(async (a, b) => {
      await a.query("begin");
      const first = await a.query(INSERT, [FACTORY_APP_ID]);
      // A second writer cannot even allocate an id while the first transaction is open.
      const second = b.query(INSERT, [FACTORY_APP_ID]);
      expect(await stateAfter(second, 300)).toBe("pending");
      await a.query("commit");
      expect(BigInt((await second).rows[0]?.id as string)).toBeGreaterThan(
        BigInt(first.rows[0]?.id as string),
      );
    }));

  it("does not hold writers back once the writing transaction rolls back", () =>
    withTwoConnections(async (a, b) => {
      await a.query("begin");
      await a.query(INSERT, [FACTORY_APP_ID]);
      await a.query("rollback");
      expect(await stateAfter(b.query(INSERT, [FACTORY_APP_ID]), 2_000)).toBe("settled");
    }));
});
