import { createSealer, SealError } from "../crypto/seal.js";
import type { Database } from "./database.js";
import { grantAad } from "./grant-writer.js";
import { sessionAad } from "./session-tx.js";

/**
 * Every sealed column: its table, the bytea holding the sealed string's UTF-8 bytes, the key id kept
 * beside it, and the row's AAD (the columns it needs are selected as `aad_a`, `aad_b`).
 */
export interface SealedColumn {
  /** `table.column` without the `_sealed` suffix: how reports name it. */
  readonly name: string;
  readonly table: "user_grant" | "auth_session";
  readonly sealed: string;
  readonly keyId: string;
  /** SQL expressions for the AAD's inputs, selected as aad_a and aad_b. */
  readonly aadSql: readonly [string, string];
  aad(a: string, b: string): string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    name: "user_grant.access_token",
    table: "user_grant",
    sealed: "access_token_sealed",
    keyId: "access_token_key_id",
    aadSql: ["app_id", "open_id"],
    aad: (appId, openId) => grantAad(appId, openId, "access"),
  },
  {
    name: "user_grant.refresh_token",
    table: "user_grant",
    sealed: "refresh_token_sealed",
    keyId: "refresh_token_key_id",
    aadSql: ["app_id", "open_id"],
    aad: (appId, openId) => grantAad(appId, openId, "refresh"),
  },
  {
    name: "auth_session.pkce_verifier",
    table: "auth_session",
    sealed: "pkce_verifier_sealed",
    keyId: "pkce_verifier_key_id",
    aadSql: ["id::text", "''"],
    aad: (id) => sessionAad(id, "pkce_verifier"),
  },
  {
    name: "auth_session.device_code",
    table: "auth_session",
    sealed: "device_code_sealed",
    keyId: "device_code_key_id",
    aadSql: ["id::text", "''"],
    aad: (id) => sessionAad(id, "device_code"),
  },
];

/** How many sealed values each key id seals, over every sealed column (from the key id columns). */
export async function keyIdsInUse(db: Database): Promise<Map<string, number>> {
  const union = SEALED_COLUMNS.map(
    (c) => `select ${c.keyId} as key_id from ${c.table} where ${c.sealed} is not null`,
  ).join(" union all ");
  const rows = await db
    .em()
    .execute<{ key_id: string; n: string | number }[]>(
      `select key_id, count(*) as n from (${union}) k group by key_id order by key_id`,
    );
  return new Map(rows.map((r) => [r.key_id, Number(r.n)]));
}

/** The key ids only, for messages: `k0 (12 values), k1 (3 values)`. */
function describeIds(ids: readonly string[], inUse: ReadonlyMap<string, number>): string {
  return ids
    .map((id) => {
      const n = inUse.get(id) ?? 0;
      return `${id} (${n} value${n === 1 ? "" : "s"})`;
    })
    .join(", ");
}

/** Start-up found stored secrets that the configured keys cannot open. One line; no key material. */
export class EncryptionKeysMissingError extends Error {
  override readonly name = "EncryptionKeysMissingError";
  constructor(
    /** Key ids in use that no configured key has. */
    readonly missingKeyIds: readonly string[],
    /** Key ids configured whose key opens none of the sampled values sealed under that id. */
    readonly wrongKeyIds: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** How many values per (column, key id) the start-up probe tries to open. */
const SAMPLES_PER_KEY = 3;

/**
 * A few values per (column, key id): the probe that tells a wrong key under the right id. Several, so
 * one damaged row does not pass for a wrong key.
 */
async function samples(
  db: Database,
  keyIds: readonly string[],
): Promise<{ keyId: string; sealed: string; aad: string }[]> {
  const out: { keyId: string; sealed: string; aad: string }[] = [];
  for (const c of SEALED_COLUMNS) {
    const rows = await db.em().execute<{ key_id: string; sealed: Buffer; aad_a: string; aad_b: string }[]>(
      `select key_id, sealed, aad_a, aad_b from (
         select ${c.keyId} as key_id, ${c.sealed} as sealed, ${c.aadSql[0]} as aad_a, ${c.aadSql[1]} as aad_b,
           row_number() over (partition by ${c.keyId} order by id) as rn
         from ${c.table} where ${c.sealed} is not null and ${c.keyId} = any(?::text[])
       ) s where rn <= ${SAMPLES_PER_KEY}`,
      [`{${keyIds.map((id) => JSON.stringify(id)).join(",")}}`],
    );
    for (const r of rows)
      out.push({
        keyId: r.key_id,
        sealed: Buffer.from(r.sealed).toString("utf8"),
        aad: c.aad(r.aad_a, r.aad_b),
      });
  }
  return out;
}

/**
 * For start-up (app.ts, before serving): every key id that seals a stored value must be configured,
 * and each configured key in use must open at least one of the values sealed under its id (a key
 * pasted under the wrong id, or a different key under an old id, fails here rather than on the
 * first refresh). Throws EncryptionKeysMissingError with one line naming the key ids; never a value
 * or a key. One grouped query plus one small probe per sealed column; read-only.
 */
export async function assertKeysCover(
  db: Database,
  keys: readonly { readonly id: string; readonly key: Buffer }[],
): Promise<void> {
  const inUse = await keyIdsInUse(db);
  const configured = new Set(keys.map((k) => k.id));
  const missing = [...inUse.keys()].filter((id) => !configured.has(id));
  const present = [...inUse.keys()].filter((id) => configured.has(id));
  const wrong: string[] = [];
  if (present.length > 0) {
    const sealer = createSealer(keys);
    const opened = new Set<string>();
    const failed = new Set<string>();
    for (const s of await samples(db, present)) {
      try {
        sealer.open(s.sealed, s.aad);
        opened.add(s.keyId);
      } catch (err) {
        // Only a failed tag says something about the key; a malformed value is damage, not a wrong key.
        if (!(err instanceof SealError)) throw err;
        if (err.reason === "authentication_failed") failed.add(s.keyId);
      }
    }
    wrong.push(...[...failed].filter((id) => !opened.has(id)));
  }
  if (missing.length === 0 && wrong.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0)
    parts.push(
      `stored tokens are sealed under key id(s) ${describeIds(missing, inUse)} missing from LARK_AUTH_ENCRYPTION_KEYS: ` +
        "put the old key back in LARK_AUTH_ENCRYPTION_KEYS (after the new one) until `npm run reseal` has finished",
    );
  if (wrong.length > 0)
    parts.push(
      `the key configured as ${wrong.join(", ")} opens none of the sampled values sealed under that id: ` +
        "LARK_AUTH_ENCRYPTION_KEYS holds a different key under that id (restore the original key)",
    );
  throw new EncryptionKeysMissingError(missing, wrong, `LARK_AUTH_ENCRYPTION_KEYS: ${parts.join("; ")}`);
}
