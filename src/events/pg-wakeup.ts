import { createRequire } from "node:module";
import type { Logger } from "../telemetry/logger.js";
import type { WakeupSource } from "./hub.js";

/** The channel the `auth_event_notify` trigger notifies on every committed event insert. */
export const EVENTS_CHANNEL = "lark_auth_events";

/** The slice of `pg`'s Client used here (`pg` comes with the MikroORM driver, without types). */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: "notification", fn: () => void): void;
  on(event: "error" | "end", fn: (err?: Error) => void): void;
  removeAllListeners(): void;
}
type PgModule = {
  Client: new (config: {
    connectionString: string;
    keepAlive: boolean;
    connectionTimeoutMillis: number;
  }) => PgClient;
};
const pg = createRequire(import.meta.url)("pg") as PgModule;

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5000;

/**
 * PostgreSQL wake-ups on a dedicated connection: MikroORM's pool hands connections out and back,
 * and a LISTEN on a pooled connection silently stops hearing (node-postgres #967). The connection
 * is re-established after any error with capped backoff, and every (re)connect wakes the hub once,
 * since notifications sent while it was away are lost for good. The hub's polling covers the gap.
 */
export function pgWakeups(url: string, logger: Logger): WakeupSource {
  return (wake) => {
    let closed = false;
    let client: PgClient | undefined;
    let timer: NodeJS.Timeout | undefined;
    let backoff = MIN_BACKOFF_MS;

    const retry = () => {
      if (closed || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void connect();
      }, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };

    const drop = (c: PgClient) => {
      c.removeAllListeners();
      c.on("error", () => undefined); // A late socket error must not become an unhandled one.
      c.end().catch(() => undefined);
      if (client === c) client = undefined;
    };

    const connect = async () => {
      const c = new pg.Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: 5000 });
      client = c;
      const lost = (err?: Error) => {
        if (client !== c) return;
        logger.warn({ err }, "event wake-up connection lost; reconnecting");
        drop(c);
        retry();
      };
      c.on("error", lost);
      c.on("end", lost);
      c.on("notification", wake);
      try {
        await c.connect();
        await c.query(`listen ${EVENTS_CHANNEL}`);
        if (closed) return drop(c);
        if (backoff > MIN_BACKOFF_MS) logger.info("event wake-up connection re-established");
        backoff = MIN_BACKOFF_MS;
        wake();
      } catch (err) {
        lost(err as Error);
      }
    };

    void connect();
    return {
      async close() {
        closed = true;
        clearTimeout(timer);
        if (client) drop(client);
      },
    };
  };
}
