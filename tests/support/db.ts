import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { type Database, type DatabaseOptions, openDatabase } from "../../src/store/database.js";

/** A migrated database of its own for one test file, and how to get rid of it. */
export interface TestDatabase {
  readonly db: Database;
  /** A URL for connections of one's own: the fresh PostgreSQL database, or the embedded server's private socket. */
  readonly url: string;
  close(): Promise<void>;
}

/** The server to test against, when set; otherwise tests run on the embedded PGlite. */
export function testServerUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || undefined;
}

/**
 * For a suite that runs only on PostgreSQL: true (skip it) without TEST_DATABASE_URL, saying so on
 * stderr once, so a run on the embedded database shows what it left out instead of skipping silently.
 */
export function skipWithoutPostgres(suite: string): boolean {
  if (testServerUrl() !== undefined) return false;
  console.warn(`${suite}: skipped, it needs TEST_DATABASE_URL (PostgreSQL)`);
  return true;
}

/**
 * A fresh, migrated database: on the TEST_DATABASE_URL server a randomly named database (created
 * with `pg`, dropped on close, so test files run in parallel without sharing rows), otherwise an
 * in-memory embedded PGlite. `options` pass through to openDatabase (e.g. `migrate: false`).
 */
export async function createTestDatabase(
  options: Omit<DatabaseOptions, "url" | "dataDir"> = {},
): Promise<TestDatabase> {
  const server = testServerUrl();
  if (server === undefined) {
    const db = await openDatabase(options);
    return { db, url: db.url, close: () => db.close() };
  }
  const name = `lark_auth_test_${randomBytes(6).toString("hex")}`;
  await adminQuery(server, `create database "${name}"`);
  const url = withDatabase(server, name);
  let db: Database;
  try {
    db = await openDatabase({ poolSize: 4, ...options, url });
  } catch (err) {
    await adminQuery(server, `drop database if exists "${name}" with (force)`);
    throw err;
  }
  return {
    db,
    url,
    close: async () => {
      await db.close();
      await adminQuery(server, `drop database if exists "${name}" with (force)`);
    },
  };
}

/** `url` pointing at database `name` on the same server. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The slice of `pg` (installed with the MikroORM driver, shipped without types) tests use. */
export interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): unknown;
}
type PgModule = { Client: new (config: { connectionString: string }) => PgClient };
const pg = createRequire(import.meta.url)("pg") as PgModule;

/** A plain, connected `pg` client: for tests that need a connection of their own (locks, transactions). */
export async function connectRaw(url: string): Promise<PgClient> {
  const client = new pg.Client({ connectionString: url });
  // A test may cut this connection on purpose (closing the database, dropping it): the
  // queries in flight reject; without a listener the idle client's error would crash the run.
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
