import { createRequire } from "node:module";
import type { GrantChange, GrantChanges } from "../domain/grants/grant.js";

/** The channel the `user_grant_notify_change` trigger notifies; payload `<app_id>:<open_id>`. */
export const GRANT_CHANNEL = "lark_auth_grant";
const SETTLE_PREFIX = "~settle:";

/** GrantChanges plus what the composition root and the store use. */
export interface GrantNotifier extends GrantChanges {
  /** This process's own change, signalled at once (other replicas learn it from the trigger's NOTIFY). */
  publish(change: GrantChange): void;
  close(): Promise<void>;
}

type Listener = (change: GrantChange | "all") => void;

function createFanout() {
  const listeners = new Set<Listener>();
  return {
    subscribe(listener: Listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    emit(change: GrantChange | "all") {
      for (const l of [...listeners]) l(change);
    },
  };
}

/**
 * The embedded database's signal: PGlite serves one process, and NOTIFY does not pass through its
 * socket server, so the store's own `publish` after each commit is the whole signal. Writers outside
 * the GrantStore (the flow's upsertGrant) must publish too.
 */
export function createInProcessNotifier(): GrantNotifier {
  const fanout = createFanout();
  return {
    subscribe: fanout.subscribe,
    live: () => true,
    settle: async () => {},
    publish: (change) => fanout.emit(change),
    close: async () => {},
  };
}

interface PgNotification {
  channel: string;
  payload?: string;
}
interface PgListenClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
  on(event: "notification", fn: (n: PgNotification) => void): void;
  on(event: "error" | "end", fn: (err?: Error) => void): void;
}
type PgModule = { Client: new (config: { connectionString: string }) => PgListenClient };
// `pg` ships with the MikroORM driver, without types; only this slice is used.
const pg = createRequire(import.meta.url)("pg") as PgModule;

export interface PgNotifierOptions {
  readonly url: string;
  readonly onError?: (err: unknown) => void;
  /** Longest pause between reconnect attempts (default 5 s). */
  readonly maxBackoffMs?: number;
}

/**
 * PostgreSQL LISTEN on a dedicated `pg` client (a pooled connection cannot LISTEN: it would be handed
 * to someone else, node-postgres #967). While that connection is down, `live()` is false so caches
 * stop serving; after it comes back, "all" tells them to forget everything (notifications sent while
 * away are never replayed). Reconnects forever with capped backoff.
 */
export async function createPgNotifier(options: PgNotifierOptions): Promise<GrantNotifier> {
  const fanout = createFanout();
  const waiters = new Map<string, () => void>();
  let client: PgListenClient | undefined;
  let live = false;
  let closed = false;
  let settles = 0;

  const onNotification = (n: PgNotification) => {
    const payload = n.payload ?? "";
    if (payload.startsWith(SETTLE_PREFIX)) return waiters.get(payload)?.();
    const cut = payload.indexOf(":");
    if (cut > 0) fanout.emit({ appId: payload.slice(0, cut), openId: payload.slice(cut + 1) });
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: options.url });
    c.on("notification", onNotification);
    c.on("error", (err) => lost(c, err));
    c.on("end", () => lost(c));
    await c.connect();
    await c.query(`listen ${GRANT_CHANNEL}`);
    client = c;
    live = true;
    fanout.emit("all");
  };

  const reconnect = async (attempt = 0): Promise<void> => {
    if (closed) return;
    try {
      await connect();
    } catch (err) {
      options.onError?.(err);
      const delay = Math.min(options.maxBackoffMs ?? 5000, 100 * 2 ** attempt);
      setTimeout(() => void reconnect(attempt + 1), delay).unref();
    }
  };

  function lost(c: PgListenClient, err?: Error) {
    if (client !== c) return;
    client = undefined;
    live = false;
    fanout.emit("all");
    if (err) options.onError?.(err);
    c.end().catch(() => {});
    void reconnect();
  }

  await connect();
  return {
    subscribe: fanout.subscribe,
    live: () => live,
    publish: (change) => fanout.emit(change),
    async settle(timeoutMs) {
      const c = client;
      if (!c) return;
      // Notifications reach listeners in commit order: once our marker comes back, every change
      // committed before it was sent to every listening replica too.
      const marker = `${SETTLE_PREFIX}${++settles}`;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          waiters.delete(marker);
          resolve();
        }
        waiters.set(marker, done);
        c.query("select pg_notify($1, $2)", [GRANT_CHANNEL, marker]).catch(done);
      });
    },
    async close() {
      closed = true;
      live = false;
      const c = client;
      client = undefined;
      await c?.end().catch(() => {});
    },
  };
}
