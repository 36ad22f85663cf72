import { type EntityManager, MikroORM } from "@mikro-orm/postgresql";
import { withDeadline } from "./deadline.js";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.js";
import { ormOptions } from "./orm-config.js";
import { disconnectPool, type PgPool } from "./pool-disconnect.js";

/**
 * A statement for the lean path (`Database.query`): `$1`-style parameters and a name unique to its
 * text, under which PostgreSQL parses and plans it once per connection.
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/** The part of the driver's `pg` pool the lean path uses. */
interface QueryPool {
  query(config: { name?: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

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
  /**
   * Connections of the background jobs' own pool (default 4; 0 shares the main pool). Jobs (card
   * delivery, device polls, sweeps) then never queue behind a flood of requests for a connection, and
   * a busy job never takes a request's. Four, not two: card delivery needs two round trips per card
   * (claim, mark sent), and while a burst of requests keeps the event loop busy each round trip is
   * slow, so two connections held cards to ~30/s of Lark's 45 (bench/results/card-burst.md).
   */
  readonly backgroundPoolSize?: number;
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
  /**
   * The same database for background jobs: `em()` forks from the jobs' own small pool
   * (`backgroundPoolSize`). Everything else is this Database's. Build jobs' stores on it.
   */
  readonly background: Database;
  /**
   * One statement straight on this lane's driver pool, without an EntityManager: for the few hot
   * statements where a fork, the ORM's query formatting and a parse and plan per call are the cost
   * (the cold token read, the audit trail's batches). Rows come back through the same pool and so
   * the same type parsers as `em().execute`. Never for work that belongs in a transaction.
   * Prepared under its name on PostgreSQL; embedded, PGlite's one session is shared by every
   * connection, so a named statement of one would collide with another's: it runs unnamed there.
   */
  query<R>(statement: PreparedStatement, values: readonly unknown[]): Promise<R[]>;
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
const DEFAULT_BACKGROUND_POOL_SIZE = 4;
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
  const backgroundPoolSize = Math.max(0, opts.backgroundPoolSize ?? DEFAULT_BACKGROUND_POOL_SIZE);
  const embedded =
    opts.url === undefined
      ? await startEmbeddedPostgres(opts.dataDir, poolSize + backgroundPoolSize)
      : undefined;
  const url = opts.url ?? (embedded as EmbeddedPostgres).url;
  const socketDir = embedded?.connection.host;
  const main = lane();
  const background = backgroundPoolSize > 0 ? lane() : main;
  try {
    main.orm = await MikroORM.init(
      ormOptions({ url, poolSize, logger: opts.logger, socketDir, onPool: main.onPool }),
    );
    if (opts.migrate !== false) await migrateLatest(main.orm, mode);
    if (background !== main)
      background.orm = await MikroORM.init(
        ormOptions({ url, poolSize: backgroundPoolSize, socketDir, onPool: background.onPool }),
      );
  } catch (err) {
    await Promise.all([main.orm?.close(true), background.orm?.close(true)]);
    await embedded?.close();
    throw err;
  }
  const opened = (l: Lane): OpenLane => ({ orm: l.orm as MikroORM, pool: () => l.pool });
  const lanes: Handle["lanes"] = background === main ? [opened(main)] : [opened(main), opened(background)];
  return createHandle({ mode, url, embedded, lanes });
}

/** One ORM instance and its pool, filled in as it opens. */
interface Lane {
  orm?: MikroORM;
  pool?: PgPool;
  readonly onPool: (pool: unknown) => void;
}

function lane(): Lane {
  const l: Lane = {
    onPool: (p) => {
      l.pool = p as PgPool;
    },
  };
  return l;
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

/** An opened ORM instance and the driver's pool, once MikroORM created it. */
interface OpenLane {
  readonly orm: MikroORM;
  pool(): PgPool | undefined;
}

/** What an open database is made of. */
interface Handle {
  readonly mode: Database["mode"];
  readonly url: string;
  readonly embedded: EmbeddedPostgres | undefined;
  /** The main lane first (migrations, requests), then the background jobs' lane if it has its own. */
  readonly lanes: readonly [OpenLane, ...OpenLane[]];
}

/**
 * Closes in three bounded steps: the pool closes gracefully (idle clients go, released ones follow);
 * at half the limit whatever is still checked out is cut off (disconnectPool); the embedded server
 * and PGlite then get the rest of the time. The ORM's own close may never settle after a cut (pg-pool
 * waits for releases that a stuck caller never makes); nothing of ours is left open by then.
 */
async function closeWithin(h: Handle, timeoutMs: number): Promise<void> {
  const start = Date.now();
  await Promise.all(h.lanes.map((l) => closeLane(l, h.mode, start, timeoutMs)));
  await h.embedded?.close(start + timeoutMs);
}

async function closeLane(l: OpenLane, mode: Database["mode"], start: number, timeoutMs: number) {
  const ormClosed = l.orm.close(true);
  const pool = l.pool();
  if (!(await withDeadline(ormClosed, start + timeoutMs / 2)) && pool !== undefined) {
    const cutBy = start + (timeoutMs * 3) / 4;
    await disconnectPool(pool, mode === "postgres", cutBy);
    await withDeadline(ormClosed, cutBy);
  }
}

/** `Database.query` on one lane's pool (MikroORM opens a lane's connection on first use). */
function leanQuery(lane: OpenLane, mode: Database["mode"]): Database["query"] {
  let pool: QueryPool | undefined;
  return async <R>(statement: PreparedStatement, values: readonly unknown[]) => {
    pool ??= (await lane.orm.em.getConnection().getNativeClient()) as QueryPool;
    const { text } = statement;
    const config = mode === "postgres" ? { name: statement.name, text, values } : { text, values };
    return (await pool.query(config)).rows as R[];
  };
}

function createHandle(h: Handle): Database {
  const { mode, url } = h;
  const [main, background = main] = h.lanes;
  const orm = main.orm;
  let closing: Promise<void> | undefined;
  const view = (em: () => EntityManager, query: Database["query"]): Database => ({
    orm,
    mode,
    url,
    em,
    query,
    get background() {
      return jobs;
    },
    ping: (timeoutMs = 2000) => ping(orm, timeoutMs),
    async migrationsPending() {
      return (await orm.migrator.getPending()).length;
    },
    migrate: () => migrateLatest(orm, mode),
    close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS) {
      closing ??= closeWithin(h, timeoutMs);
      return closing;
    },
  });
  const db = view(() => orm.em.fork(), leanQuery(main, mode));
  const jobs = background === main ? db : view(() => background.orm.em.fork(), leanQuery(background, mode));
  return db;
}
