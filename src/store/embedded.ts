import { mkdir } from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { lockDataDir } from "./data-dir-lock.js";

/** A running embedded PostgreSQL (PGlite) reachable over the wire protocol on 127.0.0.1. */
export interface EmbeddedPostgres {
  /** A `postgres://` URL for the same driver the service uses against a real server. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Extra socket slots above the pool size. `pg-pool` may open a replacement connection before the
 * server has processed the close of the one it dropped; without headroom that race is answered with
 * a non-protocol "Too many connections" line, which the driver reports as a broken connection.
 */
const CONNECTION_HEADROOM = 4;

/** How long close() waits for the driver's sockets to be released before stopping the server. */
const DRAIN_TIMEOUT_MS = 2_000;

/**
 * Starts PGlite (files in `dataDir`, created if missing and locked to this process; in memory when
 * undefined) behind a socket server accepting `poolSize` connections plus headroom. Every connection
 * shares PGlite's single session: the server runs one statement at a time and, while a connection
 * has a transaction open, holds the others' statements until it ends. The pool alone therefore
 * cannot deadlock, but code that, inside a transaction, awaits work on another connection does
 * (on PostgreSQL it would only wait when that work touched the same rows).
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
  try {
    pglite = await PGlite.create(dataDir === undefined ? {} : { dataDir });
    const server = new PGLiteSocketServer({
      db: pglite,
      host: "127.0.0.1",
      port: 0,
      maxConnections: poolSize + CONNECTION_HEADROOM,
    });
    await server.start();
    const url = `postgres://postgres@${server.getServerConn()}/postgres`;
    const db = pglite;
    return { url, close: () => stopEmbedded(server, db).finally(unlock) };
  } catch (err) {
    await pglite?.close();
    await unlock();
    throw err;
  }
}

async function stopEmbedded(server: PGLiteSocketServer, pglite: PGlite): Promise<void> {
  // The handlers roll back a dangling transaction when their socket closes; let them finish
  // before PGlite goes away, or a late ROLLBACK would hit a closed database.
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  while (server.getStats().activeConnections > 0 && Date.now() < deadline) await delay(10);
  await server.stop();
  if (!pglite.closed) await pglite.close();
}
