import { ConfigError, loadConfig } from "../config/index.js";
import { createSealer } from "../crypto/seal.js";
import { sandboxEncryptionKeys } from "../sandbox-secrets.js";
import { openDatabase } from "../store/database.js";
import { keyIdsInUse } from "../store/key-check.js";
import { resealAll, totals } from "../store/reseal.js";
import { scrubString } from "../telemetry/redact.js";

/** How many unopenable values are listed by name; the count always covers them all. */
const LISTED_FAILURES = 50;

/**
 * `npm run reseal`: re-seals every stored secret (grant tokens, session PKCE verifiers and device
 * codes) under the first key of LARK_AUTH_ENCRYPTION_KEYS (in sandbox mode without it, the key kept in
 * the data dir), against the configured database, and verifies every other value opens. Safe while
 * the service runs. Prints one summary line (then one line per value that failed to open, by column
 * and row id). Exit 0 means every stored value opens and is sealed under the current key, so older
 * keys may be dropped; 1 means some value failed to open, some still uses another key, the run was
 * interrupted, or the configuration or database is unusable.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const keys =
    config.encryptionKeys.length > 0 || !config.sandbox.enabled
      ? config.encryptionKeys
      : (await sandboxEncryptionKeys(config)).keys;
  const sealer = createSealer(keys);
  const started = performance.now();
  const db = await openDatabase({
    url: config.databaseUrl,
    dataDir: config.databaseUrl === undefined ? config.dataDir : undefined,
    migrate: false,
    poolSize: 2,
  });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const pending = await db.migrationsPending();
    if (pending > 0) {
      console.error(`the database has ${pending} pending migration(s): run \`npm run migrate\` first`);
      process.exitCode = 1;
      return;
    }
    const result = await resealAll(db, sealer, { batchSize: 200, signal: abort.signal });
    const sum = totals(result);
    const others = [...(await keyIdsInUse(db))].filter(([id]) => id !== sealer.currentKeyId);
    const stillOld = others.reduce((n, [, count]) => n + count, 0);
    const ms = Math.round(performance.now() - started);
    const outcome = !result.complete
      ? "interrupted: run it again to finish"
      : sum.failed > 0
        ? "values that failed to open stay as they are: keep their keys configured"
        : stillOld > 0
          ? `${stillOld} value(s) still under ${others.map(([id]) => id).join(", ")}: ` +
            `is every replica running with ${sealer.currentKeyId} first? then run it again`
          : `every value is under ${sealer.currentKeyId}: older keys may be removed`;
    console.log(
      `resealed ${sum.resealed}, already current ${sum.current}, failed ${sum.failed}, ` +
        `changed meanwhile ${sum.changed} under key ${sealer.currentKeyId} in ${ms} ms; ${outcome}`,
    );
    for (const f of result.failures.slice(0, LISTED_FAILURES))
      console.error(`  cannot open ${f.column} of row ${f.id} (key ${f.keyId}): ${f.reason}`);
    if (result.failures.length > LISTED_FAILURES)
      console.error(`  ... and ${result.failures.length - LISTED_FAILURES} more`);
    if (!result.complete || sum.failed > 0 || stillOld > 0) process.exitCode = 1;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await db.close();
  }
}

main().catch((err: unknown) => {
  // Configuration problems are for the operator, one line each (as `npm start` prints them); anything
  // else keeps its stack, scrubbed (a database URL may carry a password).
  if (err instanceof ConfigError)
    for (const problem of err.problems) console.error(`config error: ${problem}`);
  else console.error(scrubString(err instanceof Error ? (err.stack ?? err.message) : String(err)));
  process.exitCode = 1;
});
