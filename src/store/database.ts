import { type EntityManager, MikroORM } from "@mikro-orm/postgresql";
import { withDeadline } from "./deadline.js";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.js";
import { ormOptions } from "./orm-config.js";
import { disconnectPool, type PgPool } from "./pool-disconnect.js";

/** How to reach the database; see openDatabase. */
export interface DatabaseOptions {
  /** A PostgreSQL URL; when unset the embedded PGlite is used. */
  readonly url?: string;
  /** Embedded mode only: where PGlite keeps its files (created if missing); unset = in memory. */
  readonly dataDir?: string;
  /** Apply pending migrations before returning (default true). */
  readonly migrate?: boolean;
  /** Maximum connections in the driver's pool (default 10 on PostgreSQL, 4 embedded; at least 2). */
  readonly poolSize?: number;
  /** Receives MikroORM's and the migrator's log lines. */
  readonly logger?: (msg: string) => void;
}

/** An open database: the ORM plus the handles the service and its health checks need. */
export interface Database {
  readonly orm: MikroORM;
  readonly mode: "postgres" | "embedded";
  /**
   * A URL any `pg` client can connect to: the one given, or the embedded server's private Unix
   * socket (`?host=<dir>`). For tools and tests that need a connection of their own.
   */
  readonly url: string;
  /**
   * A fresh EntityManager fork: one per unit of work, never shared across requests. Inside
   * `em.transactional(...)`, do all database work through that transaction's `em`: on the embedded
   * database an open transaction holds back every other connection, so awaiting work on another
   * fork (a store built on this Database, `ping`) from inside it deadlocks.
   */
  em(): EntityManager;
  /** True when a trivial query succeeds within `timeoutMs` (default 2000); never throws. */
  ping(timeoutMs?: number): Promise<boolean>;
  /** How many migrations in `migrations/` the database has not applied yet. */
  migrationsPending(): Promise<number>;
  /** Applies pending migrations (one process at a time on PostgreSQL); returns their names. */
  migrate(): Promise<string[]>;
  /**
   * Closes the pool and, embedded, the socket server and PGlite; resolves within `timeoutMs`
   * (default 5000) even while a transaction is held open or a statement waits on a lock: after
   * half the time our own connections are cut (backends terminated on PostgreSQL), which rolls
   * their transactions back. Safe to call twice (the first call's limit applies).
   */
  close(timeoutMs?: number): Promise<void>;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

const DEFAULT_POOL_SIZE = 10;
/**
 * Embedded statements run one at a time whatever the pool size, so more connections only add
 * queueing. Four lets a transaction hold one connection while other units of work still get
 * theirs and queue at PGlite, so nothing waits on the pool itself; the socket server accepts a few
 * more than this (embedded.ts). (LISTEN/NOTIFY cannot cross connections there: wake-ups must be
 * signalled in-process.)
 */
const DEFAULT_EMBEDDED_POOL_SIZE = 4;

/**
 * Opens the database the same way in every mode: the `@mikro-orm/postgresql` driver, over TCP to
 * PostgreSQL or to an embedded PGlite, with the same migrations applied (unless `migrate: false`).
 * On failure nothing is left running.
 */
export async function openDatabase(opts: DatabaseOptions = {}): Promise<Database> {
  const mode = opts.url === undefined ? "embedded" : "postgres";
  // Two at least: migrating holds one connection for the lock while the migrator uses another.
  const poolSize = Math.max(
    2,
    opts.poolSize ?? (mode === "embedded" ? DEFAULT_EMBEDDED_POOL_SIZE : DEFAULT_POOL_SIZE),
  );
  const embedded = opts.url === undefined ? await startEmbeddedPostgres(opts.dataDir, poolSize) : undefined;
  const url = opts.url ?? (embedded as EmbeddedPostgres).url;
  const socketDir = embedded?.connection.host;
  let pool: PgPool | undefined;
  const onPool = (p: unknown) => {
    pool = p as PgPool;
  };
  let orm: MikroORM | undefined;
  try {
    orm = await MikroORM.init(ormOptions({ url, poolSize, logger: opts.logger, socketDir, onPool }));
    if (opts.migrate !== false) await migrateLatest(orm, mode);
  } catch (err) {
    await orm?.close(true);
    await embedded?.close();
    throw err;
  }
  const handle: Handle = { orm, mode, url, embedded, pool: () => pool };
  return createHandle(handle);
}

/**
 * Applies pending migrations. On PostgreSQL, replicas starting together take turns: a transaction
 * on one connection holds an advisory lock while the migrator runs on another, so the second
 * replica waits, then finds nothing pending (MikroORM's migrator does not lock by itself). The
 * embedded database belongs to one process, and its shared session would make the lock moot while
 * the open transaction stalled the migrator's connection, so it migrates directly.
 */
async function migrateLatest(orm: MikroORM, mode: Database["mode"]): Promise<string[]> {
  const up = async () => (await orm.migrator.up()).map((m) => m.name);
  if (mode === "embedded") return up();
  return orm.em.fork().transactional(async (em) => {
    await em.execute("select pg_advisory_xact_lock(hashtext('lark_auth.migrate'))");
    return up();
  });
}

/** A health probe must answer even when a long transaction holds the embedded database or the pool is empty. */
async function ping(orm: MikroORM, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const check = orm.checkConnection().then(
    (r) => r.ok,
    () => false,
  );
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What an open database is made of. */
interface Handle {
  readonly orm: MikroORM;
  readonly mode: Database["mode"];
  readonly url: string;
  readonly embedded: EmbeddedPostgres | undefined;
  /** The driver's pool, once MikroORM created it. */
  pool(): PgPool | undefined;
}

/**
 * Closes in three bounded steps: the pool closes gracefully (idle clients go, released ones follow);
 * at half the limit whatever is still checked out is cut off (disconnectPool); the embedded server
 * and PGlite then get the rest of the time. The ORM's own close may never settle after a cut (pg-pool
 * waits for releases that a stuck caller never makes); nothing of ours is left open by then.
 */
async function closeWithin(h: Handle, timeoutMs: number): Promise<void> {
  const start = Date.now();
  const ormClosed = h.orm.close(true);
  const pool = h.pool();
  if (!(await withDeadline(ormClosed, start + timeoutMs / 2)) && pool !== undefined) {
    const cutBy = start + (timeoutMs * 3) / 4;
    await disconnectPool(pool, h.mode === "postgres", cutBy);
    await withDeadline(ormClosed, cutBy);
  }
  await h.embedded?.close(start + timeoutMs);
}

function createHandle(h: Handle): Database {
  const { orm, mode, url } = h;
  let closing: Promise<void> | undefined;
  return {
    orm,
    mode,
    url,
    em: () => orm.em.fork(),
    ping: (timeoutMs = 2000) => ping(orm, timeoutMs),
    async migrationsPending() {
      return (await orm.migrator.getPending()).length;
    },
    migrate: () => migrateLatest(orm, mode),
    close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS) {
      closing ??= closeWithin(h, timeoutMs);
      return closing;
    },
  };
}
