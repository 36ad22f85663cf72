import { ConfigError, loadConfig } from "../config/index.js";
import { openDatabase } from "../store/database.js";
import { scrubString } from "../telemetry/redact.js";

/**
 * `npm run migrate`: applies every pending migration in `migrations/` to the configured database
 * (DATABASE_URL, or the embedded PGlite in LARK_AUTH_DATA_DIR) and exits; 0 means the schema is
 * current. All migrations of one run share a transaction, so a failure leaves the schema as it was.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const started = performance.now();
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.databaseUrl === undefined ? config.dataDir : undefined,
    migrate: false,
    poolSize: 2,
  });
  try {
    const applied = await db.migrate();
    const ms = Math.round(performance.now() - started);
    const where = db.mode === "embedded" ? `embedded database in ${config.dataDir}` : "PostgreSQL";
    console.log(`applied ${applied.length} migration(s) to the ${where} in ${ms} ms`);
    for (const name of applied) console.log(`  ${name}`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  // Configuration problems are for the operator, one per line; anything else keeps its stack.
  console.error(
    err instanceof ConfigError
      ? err.message
      : scrubString(err instanceof Error ? (err.stack ?? err.message) : String(err)),
  );
  process.exitCode = 1;
});
