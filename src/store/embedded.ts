/**
 * The embedded database: PGlite served over the PostgreSQL wire protocol to the same `pg` driver
 * the service uses against a real server.
 *
 * Locking design (what code built on the store may rely on, on both databases):
 * - PGlite has ONE session. Every pool connection shares it, so the socket server serialises
 *   transactions: a connection that opens a transaction (BEGIN) has the session to itself until
 *   COMMIT/ROLLBACK, and every other connection's statements, BEGINs included, wait in a queue;
 *   each extended-query group (Parse..Sync) is exclusive in the same way (pglite-session.ts).
 *   Two transactions never interleave, so `SELECT ... FOR UPDATE`, `pg_advisory_xact_lock` and
 *   `FOR UPDATE SKIP LOCKED` keep their PostgreSQL meaning: a second transaction waits for the
 *   first and sees its writes; SKIP LOCKED never meets a locked row. Lock timeouts never fire.
 * - Rule: never await work on another connection while a transaction is open (another fork,
 *   a store call, `ping`, a second transaction). Embedded, that work waits for the session the
 *   transaction holds: a deadlock, whatever rows it touches. On PostgreSQL it can also exhaust
 *   the pool. Do everything through the transaction's own `em`, or after it commits.
 * - Only transaction-scoped locks (`pg_advisory_xact_lock`, row locks). Session-scoped state is
 *   shared by every connection here: no `pg_advisory_lock`, `SET` (use `SET LOCAL`), named
 *   prepared statements, temp tables or LISTEN/NOTIFY (signal in-process instead).
 * - The socket is a Unix socket in a 0700 directory, never TCP: PGlite trusts every client as
 *   superuser, and one open transaction there stalls every RPC, so only this user may connect.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { lockDataDir } from "./data-dir-lock.js";
import { withDeadline } from "./deadline.js";
import { exclusiveGroups } from "./pglite-session.js";

/** How the `pg` driver reaches a server: a Unix socket directory as `host`, as libpq does. */
export interface PgConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
}

/** A running embedded PostgreSQL (PGlite) reachable over the wire protocol on a private Unix socket. */
export interface EmbeddedPostgres {
  readonly connection: PgConnection;
  /** The same as a `postgres://` URL (`?host=` names the socket directory), for `pg` clients and psql. */
  readonly url: string;
  /** Stops the server and PGlite; resolves by `deadline` (epoch ms) even if something hangs. */
  close(deadline?: number): Promise<void>;
}

/**
 * Extra socket slots above the pool size. `pg-pool` may open a replacement connection before the
 * server has processed the close of the one it dropped; without headroom that race is answered with
 * a non-protocol "Too many connections" line, which the driver reports as a broken connection.
 */
const CONNECTION_HEADROOM = 4;
/** How long close() waits by default for the driver's sockets to go before stopping anyway. */
const CLOSE_TIMEOUT_MS = 2_000;
/** The socket file is `<dir>/.s.PGSQL.<port>`, as the driver expects; the port is only a name. */
const SOCKET_PORT = 5432;
/** sun_path holds 108 bytes with its terminating NUL on Linux (104 on macOS). */
const MAX_SOCKET_PATH = 103;

/**
 * Starts PGlite (files in `dataDir`, created if missing and locked to this process; in memory when
 * undefined) behind a socket server accepting `poolSize` connections plus headroom.
 */
export async function startEmbeddedPostgres(
  dataDir: string | undefined,
  poolSize: number,
): Promise<EmbeddedPostgres> {
  let unlock = async () => {};
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  let pglite: PGlite | undefined;
  let socketDir: string | undefined;
  try {
    pglite = await PGlite.create(dataDir === undefined ? {} : { dataDir });
    socketDir = await privateSocketDir(dataDir);
    const server = new PGLiteSocketServer({
      db: exclusiveGroups(pglite),
      path: join(socketDir, `.s.PGSQL.${SOCKET_PORT}`),
      maxConnections: poolSize + CONNECTION_HEADROOM,
    });
    await server.start();
    const connection = { host: socketDir, port: SOCKET_PORT, user: "postgres", database: "postgres" };
    const db = pglite;
    const dir = socketDir;
    const stop = async (deadline: number) => {
      await withDeadline(stopEmbedded(server, db, deadline), deadline);
      await rm(dir, { recursive: true, force: true });
      await unlock();
    };
    let closing: Promise<void> | undefined;
    return {
      connection,
      url: `postgres://postgres@localhost:${SOCKET_PORT}/postgres?host=${encodeURIComponent(socketDir)}`,
      close: (deadline = Date.now() + CLOSE_TIMEOUT_MS) => {
        closing ??= stop(deadline);
        return closing;
      },
    };
  } catch (err) {
    await pglite?.close();
    if (socketDir !== undefined) await rm(socketDir, { recursive: true, force: true });
    await unlock();
    throw err;
  }
}

/**
 * A fresh directory only this user can enter: `<dataDir>/run` (recreated, so a socket left by a
 * killed process does not block the bind), or a new temp dir for an in-memory database or when
 * the data dir's path is too long for a socket.
 */
async function privateSocketDir(dataDir: string | undefined): Promise<string> {
  if (dataDir !== undefined) {
    const dir = join(dataDir, "run");
    if (join(dir, `.s.PGSQL.${SOCKET_PORT}`).length <= MAX_SOCKET_PATH) {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { mode: 0o700 });
      return dir;
    }
  }
  return mkdtemp(join(tmpdir(), "lark-auth-pg-"));
}

async function stopEmbedded(server: PGLiteSocketServer, pglite: PGlite, deadline: number): Promise<void> {
  // The handlers roll back a dangling transaction when their socket closes; let them finish
  // before PGlite goes away, or a late ROLLBACK would hit a closed database. Near the deadline
  // stop() detaches (and rolls back) whatever is left, leaving time to close PGlite.
  const drainUntil = deadline - Math.min(500, (deadline - Date.now()) / 4);
  while (server.getStats().activeConnections > 0 && Date.now() < drainUntil) await delay(10);
  await server.stop();
  if (!pglite.closed) await pglite.close();
}
