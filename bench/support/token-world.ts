// What the token benches share: a database of their own on the PostgreSQL server, the emulator with
// authorized users (tests/integration/grant-fixtures.ts: real code exchanges through the real gateway,
// grants sealed as the flow seals them), and the real service (buildApp) for that emulator's app.
import { createRequire } from "node:module";
import { type App, type AppOverrides, buildApp } from "../../src/app.js";
import { type Database, openDatabase } from "../../src/store/database.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { type LarkWorld, serviceConfig } from "../../tests/integration/grant-fixtures.js";
import { withDatabase } from "../../tests/support/db.js";

/** The slice of `pg` (shipped without types) the benches use. */
export interface PgPool {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}
type PgModule = { Pool: new (config: { connectionString: string; max?: number }) => PgPool };
const pg = createRequire(import.meta.url)("pg") as PgModule;

/** A plain `pg` pool: the anchors' driver, and the orchestrator's admin connection. */
export const pgPool = (url: string, max = 10): PgPool => new pg.Pool({ connectionString: url, max });

/** The bench database URL from the environment, or undefined (the bench then skips with one line). */
export const benchServerUrl = (): string | undefined =>
  process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;

export interface BenchDatabase {
  readonly url: string;
  /** Migrated, the service's default pool (10 connections). */
  readonly db: Database;
  readonly serverVersion: string;
  drop(): Promise<void>;
}

/** A fresh database named after the bench and this process, migrated; `drop` closes and removes it. */
export async function createBenchDatabase(serverUrl: string, bench: string): Promise<BenchDatabase> {
  const admin = pgPool(serverUrl, 1);
  const name = `lark_auth_bench_${bench}_${process.pid}`;
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.query(`create database "${name}"`);
  const [version] = (await admin.query("show server_version")).rows;
  const url = withDatabase(serverUrl, name);
  const db = await openDatabase({ url });
  return {
    url,
    db,
    serverVersion: String(version?.server_version),
    async drop() {
      await db.close();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

/**
 * The real service for `world`'s app on `db`, as deployed: info logs to stdout, the default pool, every
 * interceptor. The caller key is grant-fixtures' CALLER_KEY (all permissions).
 */
export async function startBenchService(
  world: LarkWorld,
  db: Database,
  overrides: Omit<AppOverrides, "db" | "logger"> = {},
): Promise<App> {
  const config = serviceConfig(world, { LARK_AUTH_SHUTDOWN_GRACE_MS: "2000" });
  return buildApp(config, { ...overrides, db, logger: createLogger({ level: "info" }) });
}

/** The run's circumstances, for the first lines of a results file. */
export function machineLine(extra: string): string {
  return `Measured ${new Date().toISOString()} on ${process.platform}/${process.arch} (2 cores shared with other engineers' work), Node ${process.versions.node}, ${extra}`;
}
