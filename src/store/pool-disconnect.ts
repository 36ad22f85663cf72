import { withDeadline } from "./deadline.js";

/** The parts of a `pg` client (shipped without types) that a forced close needs. */
interface PgClient {
  readonly processID: number | null;
  readonly connection: { readonly stream: { destroy(): void } };
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): unknown;
}

/** The parts of a `pg-pool` Pool a forced close needs: every client it made, checked out or idle. */
export interface PgPool {
  readonly _clients: PgClient[];
  readonly options: Record<string, unknown>;
  readonly Client: new (options: Record<string, unknown>) => PgClient;
}

/**
 * Ends every connection of `pool` now, whatever it is doing. `pool.end()` waits for each checked-out
 * client to be released, so one transaction held open (or a statement waiting on a lock) keeps
 * shutdown waiting forever. On PostgreSQL our own backends are terminated first (only the pids this
 * pool opened): a backend waiting on a lock would not notice its client is gone, and would keep
 * its locks from other replicas. Then the sockets are destroyed; embedded, that rolls back the
 * transaction holding the PGlite session.
 */
export async function disconnectPool(
  pool: PgPool,
  terminateBackends: boolean,
  deadline: number,
): Promise<void> {
  const clients = [...pool._clients];
  // Cut on purpose: their "terminated" errors are expected, and must not surface as uncaught.
  for (const client of clients) client.on("error", () => {});
  const pids = clients.map((c) => c.processID).filter((pid): pid is number => pid !== null);
  if (terminateBackends && pids.length > 0) await withDeadline(terminate(pool, pids), deadline);
  for (const client of clients) client.connection.stream.destroy();
}

async function terminate(pool: PgPool, pids: number[]): Promise<void> {
  const admin = new pool.Client({ ...pool.options, connectionTimeoutMillis: 1_000 });
  // Destroyed below without a goodbye, which pg reports as an error event.
  admin.on("error", () => {});
  try {
    await admin.connect();
    await admin.query("select pg_terminate_backend(pid) from unnest($1::int[]) as pid", [pids]);
  } finally {
    admin.connection.stream.destroy();
  }
}
