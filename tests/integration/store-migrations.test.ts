import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/store/database.js";
import { MIGRATIONS_DIR } from "../../src/store/orm-config.js";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "../support/db.js";

const MIGRATION_FILES = readdirSync(MIGRATIONS_DIR).filter((f) => /^Migration.*\.ts$/.test(f));
const TABLES = [
  "auth_event",
  "auth_event_horizon",
  "auth_session",
  "lark_app",
  "lark_inbound_event",
  "token_access_audit",
  "user_grant",
];

describe("migrations", () => {
  let t: TestDatabase;
  const tables = async () =>
    (
      await t.db
        .em()
        .getConnection()
        .execute<{ table_name: string }[]>(
          "select table_name from information_schema.tables where table_schema = 'public' and table_name <> 'mikro_orm_migrations' order by 1",
        )
    ).map((r) => r.table_name);

  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => t?.close());

  it("reports every migration file as pending on an empty database", async () => {
    expect(MIGRATION_FILES.length).toBeGreaterThan(0);
    expect(await t.db.migrationsPending()).toBe(MIGRATION_FILES.length);
    expect(await tables()).toEqual([]);
  });

  it("applies cleanly, then has nothing left to do", async () => {
    const applied = await t.db.orm.migrator.up();
    expect(applied.map((m) => `${m.name}.ts`)).toEqual([...MIGRATION_FILES].sort());
    expect(await t.db.migrationsPending()).toBe(0);
    expect(await t.db.orm.migrator.up()).toEqual([]);
    expect(await tables()).toEqual(TABLES);
  });

  it("builds exactly the schema the entities describe", async () => {
    // A non-empty diff means an entity changed without a migration (run `npm run migration:create`).
    expect(await t.db.orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe("");
  });

  it("rolls all the way down and up again", async () => {
    await t.db.orm.migrator.down({ to: 0 });
    expect(await tables()).toEqual([]);
    await t.db.orm.migrator.up();
    expect(await tables()).toEqual(TABLES);
  });

  it("answers ping while open and false once closed, and closes twice safely", async () => {
    const other = await createTestDatabase();
    expect(await other.db.ping()).toBe(true);
    await other.db.close();
    expect(await other.db.ping()).toBe(false);
    await other.db.close();
    await other.close();
  });

  it.skipIf(skipWithoutPostgres("store-migrations (replicas migrating together)"))(
    "lets replicas that start together migrate one at a time",
    async () => {
      const fresh = await createTestDatabase({ migrate: false });
      try {
        const replicas = await Promise.all(
          [1, 2, 3].map(() => openDatabase({ url: fresh.url, migrate: false })),
        );
        const applied = await Promise.all(replicas.map((r) => r.migrate()));
        expect(applied.flat()).toHaveLength(MIGRATION_FILES.length);
        await Promise.all(replicas.map((r) => r.close()));
      } finally {
        await fresh.close();
      }
    },
  );
});
