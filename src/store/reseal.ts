import { SealError } from "../crypto/seal.js";
import type { Database } from "./database.js";
import { SEALED_COLUMNS, type SealedColumn } from "./key-check.js";
import { type Sealer, sealedKeyId } from "./sealer.js";

/** The sealer the walker needs: the store's Sealer plus what rotation asks (src/crypto/seal.ts has both). */
export interface ResealSealer extends Sealer {
  readonly currentKeyId: string;
  needsReseal(sealed: string): boolean;
}

/** What happened to one sealed column's values. */
export interface ColumnCounts {
  /** Opened and written back under the current key. */
  resealed: number;
  /** Opened, already under the current key: left as they were. */
  current: number;
  /** Could not be opened (unknown key id, changed bytes, moved from another row): left as they were. */
  failed: number;
  /** Opened, but rewritten by someone else before the write-back: theirs wins, left as it is now. */
  changed: number;
}

/** A value that could not be opened: where it is and why, never the value. */
export interface ResealFailure {
  /** `table.column`, e.g. `user_grant.access_token`. */
  readonly column: string;
  readonly id: string;
  /** The key id stored beside the value (public: ids are not secrets). */
  readonly keyId: string;
  readonly reason: "malformed" | "unknown_key" | "authentication_failed";
}

export interface ResealResult {
  /** Per column, by `table.column`. */
  readonly columns: Record<string, ColumnCounts>;
  readonly failures: readonly ResealFailure[];
  /** False when `signal` stopped the walk before every row was visited. */
  readonly complete: boolean;
}

export interface ResealOptions {
  /** Rows read (and written back, in one short transaction) at a time; default 200. */
  readonly batchSize?: number;
  /** Stops the walk between batches (the batch in progress finishes or rolls back as a whole). */
  readonly signal?: AbortSignal;
}

interface Row {
  id: string;
  sealed: Buffer;
  key_id: string;
  aad_a: string;
  aad_b: string;
}

/** Sums counts over columns. */
export function totals(result: ResealResult): ColumnCounts {
  const sum: ColumnCounts = { resealed: 0, current: 0, failed: 0, changed: 0 };
  for (const c of Object.values(result.columns)) {
    sum.resealed += c.resealed;
    sum.current += c.current;
    sum.failed += c.failed;
    sum.changed += c.changed;
  }
  return sum;
}

/**
 * Re-seals every sealed value in the database under the sealer's current key, and verifies the rest.
 *
 * Each column is walked in batches, keyset by id (a row inserted behind the cursor was sealed by a
 * writer under whatever key it had; run again to see it). Every value is opened with its row's AAD;
 * one that needs the current key is sealed afresh and written back with a compare-and-set on the
 * sealed bytes themselves: `... where <column> = <bytes read>`. Nothing else on the row changes (not
 * a grant's `version`, so the refresh fencing is untouched, not `update_time`), and a writer that
 * replaced the value meanwhile (a refresh, a new authorization) wins: the walker counts it `changed`.
 * Opening happens outside the database; each batch's writes are one short transaction. Safe to run
 * while the service runs, and as often as wanted: a second run reseals nothing.
 *
 * Values that cannot be opened are counted `failed` and listed by row id and column; they stay as
 * they are. Database errors are thrown.
 */
export async function resealAll(
  db: Database,
  sealer: ResealSealer,
  opts: ResealOptions = {},
): Promise<ResealResult> {
  const batchSize = opts.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError("batchSize must be a positive integer");
  const columns: Record<string, ColumnCounts> = {};
  const failures: ResealFailure[] = [];
  for (const column of SEALED_COLUMNS) {
    const counts: ColumnCounts = { resealed: 0, current: 0, failed: 0, changed: 0 };
    columns[column.name] = counts;
    const done = await walkColumn(db, sealer, column, batchSize, counts, failures, opts.signal);
    if (!done) return { columns, failures, complete: false };
  }
  return { columns, failures, complete: true };
}

async function walkColumn(
  db: Database,
  sealer: ResealSealer,
  column: SealedColumn,
  batchSize: number,
  counts: ColumnCounts,
  failures: ResealFailure[],
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const read = `select id::text as id, ${column.sealed} as sealed, ${column.keyId} as key_id,
      ${column.aadSql[0]} as aad_a, ${column.aadSql[1]} as aad_b
    from ${column.table}
    where ${column.sealed} is not null and (?::uuid is null or id > ?::uuid)
    order by id limit ?`;
  // Only while the value is still the one read: a concurrent rewrite wins.
  const write = `update ${column.table} set ${column.sealed} = ?, ${column.keyId} = ?
    where id = ?::uuid and ${column.sealed} = ?`;
  let after: string | null = null;
  for (;;) {
    if (signal?.aborted) return false;
    const rows: Row[] = await db.em().execute<Row[]>(read, [after, after, batchSize]);
    if (rows.length === 0) return true;
    after = (rows[rows.length - 1] as Row).id;

    const updates: { id: string; old: Buffer; bytes: Buffer; keyId: string }[] = [];
    for (const row of rows) {
      const old = Buffer.from(row.sealed);
      const sealed = old.toString("utf8");
      const aad = column.aad(row.aad_a, row.aad_b);
      let plain: string;
      try {
        plain = sealer.open(sealed, aad);
      } catch (err) {
        counts.failed += 1;
        const reason = err instanceof SealError ? err.reason : "malformed";
        failures.push({ column: column.name, id: row.id, keyId: row.key_id, reason });
        continue;
      }
      // The column beside the value must name the current key too (assertKeysCover reads it).
      if (!sealer.needsReseal(sealed) && row.key_id === sealer.currentKeyId) {
        counts.current += 1;
        continue;
      }
      const fresh = sealer.seal(plain, aad);
      updates.push({ id: row.id, old, bytes: Buffer.from(fresh, "utf8"), keyId: sealedKeyId(fresh) });
    }
    if (updates.length === 0) continue;

    const written = await db.em().transactional(async (em) => {
      let n = 0;
      for (const u of updates) {
        const res = await em.execute<{ affectedRows: number }>(write, [u.bytes, u.keyId, u.id, u.old], "run");
        n += res.affectedRows;
      }
      return n;
    });
    counts.resealed += written;
    counts.changed += updates.length - written;
  }
}
