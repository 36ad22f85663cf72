import type { TokenAudit, TokenRead } from "../domain/grants/grant.js";
import type { Database, PreparedStatement } from "./database.js";
import { withDeadline } from "./deadline.js";

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
  /** Reads kept while the database is unreachable or slow; see createTokenAuditWriter (default 100,000). */
  readonly maxBuffered?: number;
  /** A write failed; its rows stay buffered for the next interval. `pending`: rows not yet written. */
  readonly onError?: (err: unknown, pending: number) => void;
  /** Reads dropped since the last report (the buffer was full); reported once per interval at most. */
  readonly onDropped?: (dropped: number) => void;
}

/**
 * One statement per batch, the rows as arrays: no entity to build per row, and PostgreSQL parses and
 * plans it once per connection.
 */
const INSERT: PreparedStatement = {
  name: "lark_auth_token_audit_insert",
  text: `insert into token_access_audit (occur_time, app_id, open_id, caller, rpc)
    select * from unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[])`,
};

/**
 * The token read audit trail (`token_access_audit`). Reads are buffered and written in batches, on
 * the background jobs' connections (`db.background`), so the hot path never waits on an insert and
 * the trail never takes a connection a token read needs; the cost is that a crash loses at most one
 * interval of rows.
 *
 * Overflow policy: the buffer holds `maxBuffered` reads. A failed write keeps its rows for the next
 * interval; when the buffer is full the oldest unwritten reads are dropped (the newest say more about
 * an incident in progress) and never silently: every interval with drops reports their count through
 * `onDropped` (logged as an error). Operators query the table by app and user, or by caller, over time.
 */
export function createTokenAuditWriter(db: Database, options: TokenAuditOptions = {}): TokenAuditWriter {
  const batchSize = options.batchSize ?? 1000;
  const maxBuffered = options.maxBuffered ?? 100_000;
  const queue = createReadQueue();
  /** The batch being inserted: out of the queue, so an overflow never drops a row of it. */
  let inFlight: TokenRead[] = [];
  let dropped = 0;
  let flushing: Promise<void> | undefined;

  const writeAll = async () => {
    while (queue.size() > 0) {
      const batch = queue.take(batchSize);
      inFlight = batch;
      try {
        await db.background.query(INSERT, [
          batch.map((r) => r.time),
          batch.map((r) => r.appId),
          batch.map((r) => r.openId),
          batch.map((r) => r.caller),
          batch.map((r) => r.rpc),
        ]);
      } catch (err) {
        queue.putBack(batch); // retried next interval, ahead of newer reads
        throw err;
      } finally {
        inFlight = [];
      }
    }
  };
  const reportDrops = () => {
    if (dropped === 0) return;
    options.onDropped?.(dropped);
    dropped = 0;
  };
  const flush = (): Promise<void> => {
    reportDrops();
    flushing ??= writeAll()
      .catch((err: unknown) => options.onError?.(err, queue.size()))
      .finally(() => {
        flushing = undefined;
      });
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.intervalMs ?? 500);
  timer.unref();

  return {
    record(read) {
      if (queue.size() + inFlight.length >= maxBuffered) {
        dropped++;
        // The oldest waiting read; only when the batch in flight is all there is, this one.
        if (queue.size() === 0) return;
        queue.dropOldest();
      }
      queue.push(read);
    },
    // Synchronous up to the insert when nothing is in flight: the batch leaves the queue at once.
    flush: () => (flushing ? flushing.then(flush) : flush()),
    async close(deadline) {
      clearInterval(timer);
      const written = flushing ? flushing.then(flush) : flush();
      if (deadline === undefined) return written;
      if (!(await withDeadline(written, deadline)))
        options.onError?.(
          new Error("the audit trail's last write did not finish before shutdown"),
          queue.size() + inFlight.length,
        );
    },
  };
}

/** A FIFO of reads with O(1) removal at the head (Array#shift copies the whole buffer). */
function createReadQueue() {
  let items: TokenRead[] = [];
  let head = 0;
  const compact = () => {
    if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
  };
  return {
    size: () => items.length - head,
    push: (read: TokenRead) => void items.push(read),
    take(n: number): TokenRead[] {
      const out = items.slice(head, head + n);
      head += out.length;
      compact();
      return out;
    },
    dropOldest() {
      head++;
      compact();
    },
    putBack(reads: readonly TokenRead[]) {
      items = [...reads, ...items.slice(head)];
      head = 0;
    },
  };
}
