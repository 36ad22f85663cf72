import type { TokenAudit, TokenRead } from "../domain/grants/grant.js";
import type { Database } from "./database.js";
import { withDeadline } from "./deadline.js";
import { TokenAccessAuditSchema } from "./entities/index.js";

export interface TokenAuditWriter extends TokenAudit {
  /** Writes everything recorded so far. */
  flush(): Promise<void>;
  /**
   * Stops the timer and flushes, waiting until `deadline` (epoch ms) at most: a lock held elsewhere
   * must not keep shutdown waiting for ever. Rows still unwritten then are reported through onError.
   */
  close(deadline?: number): Promise<void>;
}

export interface TokenAuditOptions {
  /** How often buffered reads are written (default 500 ms). */
  readonly intervalMs?: number;
  /** Rows per insert (default 1000). */
  readonly batchSize?: number;
  /** Reads kept while the database is unreachable; beyond this the oldest are dropped and counted (default 100,000). */
  readonly maxBuffered?: number;
  readonly onError?: (err: unknown, dropped: number) => void;
}

/**
 * The token read audit trail (`token_access_audit`). Reads are buffered and written in batches so the
 * hot path never waits on an insert; the cost is that a crash loses at most one interval of rows.
 * Operators query the table by app and user, or by caller, over time.
 */
export function createTokenAuditWriter(db: Database, options: TokenAuditOptions = {}): TokenAuditWriter {
  const batchSize = options.batchSize ?? 1000;
  const maxBuffered = options.maxBuffered ?? 100_000;
  let buffer: TokenRead[] = [];
  let dropped = 0;
  let flushing: Promise<void> | undefined;

  const writeAll = async () => {
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      await db.em().insertMany(
        TokenAccessAuditSchema,
        batch.map((r) => ({
          occurTime: r.time,
          appId: r.appId,
          openId: r.openId,
          caller: r.caller,
          rpc: r.rpc,
        })),
      );
      buffer = buffer.slice(batch.length);
    }
  };
  const flush = (): Promise<void> => {
    flushing ??= writeAll()
      .catch((err: unknown) => options.onError?.(err, dropped))
      .finally(() => {
        flushing = undefined;
      });
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? 500);
  timer.unref();

  return {
    record(read) {
      if (buffer.length >= maxBuffered) {
        buffer.shift();
        dropped++;
      }
      buffer.push(read);
    },
    async flush() {
      await flushing;
      await flush();
    },
    async close(deadline) {
      clearInterval(timer);
      const written = (async () => {
        await flushing;
        await flush();
      })();
      if (deadline === undefined) return written;
      if (!(await withDeadline(written, deadline)))
        options.onError?.(
          new Error("the audit trail's last write did not finish before shutdown"),
          buffer.length,
        );
    },
  };
}
