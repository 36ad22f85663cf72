import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthEventSchema } from "../../src/store/entities/index.js";
import {
  connectRaw,
  createTestDatabase,
  type PgClient,
  type TestDatabase,
  testServerUrl,
} from "../support/db.js";
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

  it("hands out increasing ids and keeps the payload as written", async () => {
    const em = t.db.em();
    const payload = { session: { id: "s-1", state: "PENDING" }, note: "ünïcode" };
    for (let i = 0; i < 3; i++)
      em.create(AuthEventSchema, { type: "SESSION_CREATED", appId: FACTORY_APP_ID, payload });
    await em.flush();
    const rows = await t.db.em().find(AuthEventSchema, {}, { orderBy: { id: "asc" } });
    const ids = rows.map((r) => BigInt(r.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(ids).size).toBe(3);
    expect(rows[0]?.payload).toEqual(payload);
  });

  // Locking needs real sessions: on PGlite every connection shares one (tests belong on PostgreSQL).
  describe.skipIf(testServerUrl() === undefined)("on PostgreSQL", () => {
    /** Runs `body` with two connections of its own, closed afterwards. */
    async function withTwoConnections(body: (a: PgClient, b: PgClient) => Promise<void>): Promise<void> {
      const a = await connectRaw(t.url as string);
      const b = await connectRaw(t.url as string);
      try {
        await body(a, b);
      } finally {
        await a.end();
        await b.end();
      }
    }

    it("serializes event writers until commit, so ids become visible in order", () =>
      withTwoConnections(async (a, b) => {
        await a.query("begin");
        const first = await a.query(INSERT, [FACTORY_APP_ID]);
        await b.query("begin");
        await b.query("set local lock_timeout = '200ms'");
        // A second writer cannot even allocate an id while the first transaction is open.
        await expect(b.query(INSERT, [FACTORY_APP_ID])).rejects.toThrow(/lock timeout/);
        await b.query("rollback");
        await a.query("commit");
        const second = await b.query(INSERT, [FACTORY_APP_ID]);
        expect(BigInt(second.rows[0]?.id as string)).toBeGreaterThan(BigInt(first.rows[0]?.id as string));
      }));

    it("does not hold writers back once the writing transaction rolls back", () =>
      withTwoConnections(async (a, b) => {
        await a.query("begin");
        await a.query(INSERT, [FACTORY_APP_ID]);
        await a.query("rollback");
        await b.query("set lock_timeout = '200ms'");
        await expect(b.query(INSERT, [FACTORY_APP_ID])).resolves.toBeDefined();
      }));
  });
});
