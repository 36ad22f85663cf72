import type { PGlite } from "@electric-sql/pglite";

/**
 * Wire-protocol messages that open or continue an extended-query group (Parse, Bind, Describe,
 * Execute, Close, Flush); the group ends at Sync. A simple Query is a group of its own.
 */
const GROUP_MESSAGES = new Set(["P", "B", "D", "E", "C", "H"].map((c) => c.charCodeAt(0)));
const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4);

/**
 * PGlite as pglite-socket's query queue should see it. The queue runs one message at a time and,
 * while `isInTransaction()` is true, only messages from the connection that ran the last one: that
 * is what keeps a transaction's statements away from the other connections. But it asks about
 * transaction blocks only, so between the Parse and the Sync of one connection's statement another
 * connection's Parse could replace the unnamed statement, or be swallowed by an error's
 * skip-until-Sync; today only the timing of pg's single write prevents that. Reporting "in a
 * transaction" from the first message of a group until its Sync makes each group exclusive too.
 */
export function exclusiveGroups(db: PGlite): PGlite {
  let inGroup = false;
  const overrides: Partial<Record<keyof PGlite, unknown>> = {
    isInTransaction: () => inGroup || db.isInTransaction(),
    execProtocolRawStream: async (
      message: Uint8Array,
      options: Parameters<PGlite["execProtocolRawStream"]>[1],
    ) => {
      try {
        return await db.execProtocolRawStream(message, options);
      } finally {
        inGroup = GROUP_MESSAGES.has(message[0] as number);
      }
    },
    // The queue's ROLLBACK for a connection that vanished mid-group: end the group first, or
    // an error in it would make the backend skip the ROLLBACK too.
    exec: async (...args: Parameters<PGlite["exec"]>) => {
      if (inGroup) await db.execProtocolRaw(SYNC);
      inGroup = false;
      return db.exec(...args);
    },
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop in overrides) return overrides[prop as keyof PGlite];
      const value = Reflect.get(target, prop, target);
      // PGlite keeps private state keyed by the real instance: methods must run on it.
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
