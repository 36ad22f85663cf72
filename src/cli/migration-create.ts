import { openDatabase } from "../store/database.js";

/**
 * `npm run migration:create [-- <name>]`: writes a migration for the difference between the entities
 * and the schema the existing migrations build. It diffs against a scratch in-memory PGlite migrated
 * to the latest version, so no database server and no snapshot file are involved; review the file
 * (checks, partial indexes, data moves) before it lands, and never edit it afterwards.
 */
async function main(): Promise<void> {
  const name = process.argv[2];
  const db = await openDatabase({ migrate: true });
  try {
    const result = await db.orm.migrator.create(undefined, false, false, name);
    if (result.diff.up.length === 0) {
      console.log("entities and migrations agree; no migration written");
      return;
    }
    console.log(`wrote migrations/${result.fileName}`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
