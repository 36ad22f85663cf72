// Key rotation on the real database (PGlite, or PostgreSQL with TEST_DATABASE_URL): resealAll moves every
// sealed value to the newest key through the real store writers' rows, tampered and moved ciphertexts
// fail (and are reported by row, never by value), a concurrent writer wins, and assertKeysCover stops
// a start-up whose keys cannot open what is stored.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createSealer, type SealingKey } from "../../src/crypto/seal.js";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { createAuthUnitOfWork } from "../../src/store/auth-tx.js";
import type { Database } from "../../src/store/database.js";
import { grantAad, upsertSealedGrant } from "../../src/store/grant-writer.js";
import { assertKeysCover, EncryptionKeysMissingError, keyIdsInUse } from "../../src/store/key-check.js";
import { type ResealSealer, resealAll, totals } from "../../src/store/reseal.js";
import { SessionTx } from "../../src/store/session-tx.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { buildSession, FACTORY_APP_ID, openId, seedApp } from "../support/factories.js";
import { TestClock } from "../support/flow.js";

const K1: SealingKey = { id: "k1", key: randomBytes(32) };
const K2: SealingKey = { id: "k2", key: randomBytes(32) };
const CARD = { descriptionStyle: "DETAILED" } as const;
const clock = new TestClock();

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedApp(t.db);
});
afterAll(async () => t?.close());
beforeEach(async () => {
  await t.db.em().execute("delete from user_grant");
  await t.db.em().execute("delete from auth_session");
});

/** A token-looking secret unique to the test run, so a leak is easy to spot. */
const secret = (label: string) => `${label}-${randomBytes(12).toString("hex")}`;

interface StoredGrant {
  readonly id: string;
  readonly openId: string;
  readonly access: string;
  readonly refresh: string;
}

/** A grant written by the store's own upsert, sealed under `keys` (first seals). */
async function writeGrant(keys: SealingKey[], user = openId(), tokens = {}): Promise<StoredGrant> {
  const access = secret("u-access");
  const refresh = secret("ur-refresh");
  const write = { access, refresh, ...tokens };
  await t.db.em().transactional((em) =>
    upsertSealedGrant(
      em,
      createSealer(keys),
      {
        appId: FACTORY_APP_ID,
        identity: { openId: user },
        scopes: ["offline_access"],
        accessToken: write.access,
        accessExpireTime: new Date(clock.now().getTime() + 7_200_000),
        refreshToken: write.refresh,
        refreshExpireTime: new Date(clock.now().getTime() + 30 * 86_400_000),
      },
      clock.now(),
    ),
  );
  const [row] = await t.db
    .em()
    .execute<{ id: string }[]>("select id::text as id from user_grant where app_id = ? and open_id = ?", [
      FACTORY_APP_ID,
      user,
    ]);
  return { id: (row as { id: string }).id, openId: user, access: write.access, refresh: write.refresh };
}

interface StoredSession {
  readonly session: AuthSession;
  readonly pkceVerifier?: string;
  readonly deviceCode?: string;
}

/** A session inserted through the real unit of work, its secrets sealed under `keys`. */
async function writeSession(keys: SealingKey[], kind: "pkce" | "device"): Promise<StoredSession> {
  const uow = createAuthUnitOfWork(t.db, { sealer: createSealer(keys), clock });
  const session = buildSession({ createTime: clock.now(), flow: kind === "pkce" ? "REDIRECT" : "DEVICE" });
  const secrets = kind === "pkce" ? { pkceVerifier: secret("pkce") } : { deviceCode: secret("device") };
  await uow.run((tx) => tx.insertSession(session, CARD, secrets));
  return { session, ...secrets };
}

interface GrantRow {
  id: string;
  access: Buffer;
  access_kid: string;
  refresh: Buffer;
  refresh_kid: string;
  version: string | number;
  update_time: Date;
}

async function grantRow(id: string): Promise<GrantRow> {
  const [row] = await t.db.em().execute<GrantRow[]>(
    `select id::text as id, access_token_sealed as access, access_token_key_id as access_kid,
       refresh_token_sealed as refresh, refresh_token_key_id as refresh_kid, version, update_time
     from user_grant where id = ?`,
    [id],
  );
  return row as GrantRow;
}

/** A grant's tokens opened with `keys`, as the service would. */
async function openGrant(keys: SealingKey[], g: StoredGrant): Promise<{ access: string; refresh: string }> {
  const sealer = createSealer(keys);
  const row = await grantRow(g.id);
  return {
    access: sealer.open(
      Buffer.from(row.access).toString("utf8"),
      grantAad(FACTORY_APP_ID, g.openId, "access"),
    ),
    refresh: sealer.open(
      Buffer.from(row.refresh).toString("utf8"),
      grantAad(FACTORY_APP_ID, g.openId, "refresh"),
    ),
  };
}

/** A session's secrets opened with `keys` through the store's own reader. */
function openSession(keys: SealingKey[], id: string) {
  return t.db
    .em()
    .transactional((em) => new SessionTx(em, createSealer(keys), () => clock.now()).openSecrets(id));
}

/** Every sealed value and key id as stored, as text: where a plaintext or an old key id would show. */
async function sealedText(): Promise<string> {
  const rows = await t.db.em().execute<{ v: string }[]>(
    `select convert_from(access_token_sealed, 'UTF8') || ' ' || access_token_key_id || ' ' ||
       convert_from(refresh_token_sealed, 'UTF8') || ' ' || refresh_token_key_id as v from user_grant
     union all
     select coalesce(convert_from(pkce_verifier_sealed, 'UTF8') || ' ' || pkce_verifier_key_id, '') || ' ' ||
       coalesce(convert_from(device_code_sealed, 'UTF8') || ' ' || device_code_key_id, '') from auth_session`,
  );
  return rows.map((r) => r.v).join("\n");
}

async function rawText(table: "user_grant" | "auth_session"): Promise<string> {
  const rows = await t.db.em().execute<{ row: string }[]>(`select t::text as row from ${table} t`);
  return rows.map((r) => r.row).join("\n");
}

/** Replaces one base64url character of a grant's sealed access token with another: a one-byte change. */
async function tamperAccess(id: string): Promise<void> {
  await t.db.em().execute(
    `update user_grant set access_token_sealed =
       set_byte(access_token_sealed, 30, case when get_byte(access_token_sealed, 30) = 65 then 66 else 65 end)
     where id = ?`,
    [id],
  );
}

const sealer = (...keys: SealingKey[]): ResealSealer => createSealer(keys);

describe("resealAll", () => {
  it("moves every sealed value from k1 to k2; the values still open to the same secrets, then under k2 alone", async () => {
    const grants = [await writeGrant([K1]), await writeGrant([K1]), await writeGrant([K1])];
    const pkce = await writeSession([K1], "pkce");
    const device = await writeSession([K1], "device");
    const before = await Promise.all(grants.map((g) => grantRow(g.id)));
    expect(await keyIdsInUse(t.db)).toEqual(new Map([["k1", 8]]));

    // Rotation: the new key first, the old one still opens; start-up accepts it.
    await assertKeysCover(t.db, [K2, K1]);
    const result = await resealAll(t.db, sealer(K2, K1), { batchSize: 2 });
    expect(result.complete).toBe(true);
    expect(result.failures).toEqual([]);
    expect(result.columns).toEqual({
      "user_grant.access_token": { resealed: 3, current: 0, failed: 0, changed: 0 },
      "user_grant.refresh_token": { resealed: 3, current: 0, failed: 0, changed: 0 },
      "auth_session.pkce_verifier": { resealed: 1, current: 0, failed: 0, changed: 0 },
      "auth_session.device_code": { resealed: 1, current: 0, failed: 0, changed: 0 },
    });
    expect(await keyIdsInUse(t.db)).toEqual(new Map([["k2", 8]]));
    const text = await sealedText();
    // Whole tokens only: a random ciphertext may hold the letters "k1" anywhere.
    expect(text.split(/\s+/)).not.toContain("k1");
    expect(text).not.toMatch(/v1\.k1\./);
    expect(text.match(/v1\.k2\./g)).toHaveLength(8);

    // Nothing else on a grant moved: the refresh fencing (version) and update_time are untouched.
    for (const [i, g] of grants.entries()) {
      const after = await grantRow(g.id);
      expect(Number(after.version)).toBe(Number(before[i]?.version));
      expect(after.update_time).toEqual(before[i]?.update_time);
      expect(Buffer.compare(after.access, before[i]?.access as Buffer)).not.toBe(0);
    }

    // The old key can go: k2 alone opens everything, to the very same secrets.
    await assertKeysCover(t.db, [K2]);
    for (const g of grants)
      expect(await openGrant([K2], g)).toEqual({ access: g.access, refresh: g.refresh });
    expect(await openSession([K2], pkce.session.id)).toEqual({ pkceVerifier: pkce.pkceVerifier });
    expect(await openSession([K2], device.session.id)).toEqual({ deviceCode: device.deviceCode });
    await expect(openGrant([K1], grants[0] as StoredGrant)).rejects.toMatchObject({ reason: "unknown_key" });

    // No plaintext anywhere in the tables, before or after.
    const tables = `${await rawText("user_grant")}\n${await rawText("auth_session")}`;
    for (const s of [...grants.flatMap((g) => [g.access, g.refresh]), pkce.pkceVerifier, device.deviceCode])
      expect(tables).not.toContain(s);

    // Idempotent: a second run verifies and writes nothing.
    const again = await resealAll(t.db, sealer(K2, K1));
    expect(totals(again)).toEqual({ resealed: 0, current: 8, failed: 0, changed: 0 });
  });

  it("counts a tampered value as failed, by row id and column only, and leaves it as it was", async () => {
    const good = await writeGrant([K1]);
    const bad = await writeGrant([K1]);
    await tamperAccess(bad.id);
    const tampered = (await grantRow(bad.id)).access;

    const result = await resealAll(t.db, sealer(K2, K1));
    expect(result.columns["user_grant.access_token"]).toEqual({
      resealed: 1,
      current: 0,
      failed: 1,
      changed: 0,
    });
    expect(result.columns["user_grant.refresh_token"]).toMatchObject({ resealed: 2, failed: 0 });
    expect(result.failures).toEqual([
      { column: "user_grant.access_token", id: bad.id, keyId: "k1", reason: "authentication_failed" },
    ]);
    expect(Buffer.compare((await grantRow(bad.id)).access, tampered)).toBe(0);
    expect(await openGrant([K2], good)).toEqual({ access: good.access, refresh: good.refresh });
    // The report carries no secret and no sealed value.
    const report = JSON.stringify(result);
    for (const s of [good.access, good.refresh, bad.access, bad.refresh, tampered.toString("utf8")])
      expect(report).not.toContain(s);

    // Tampering under the current key is caught too: every run opens every value.
    await tamperAccess(good.id);
    const rerun = await resealAll(t.db, sealer(K2, K1));
    expect(rerun.columns["user_grant.access_token"]).toEqual({
      resealed: 0,
      current: 0,
      failed: 2,
      changed: 0,
    });
    expect(rerun.failures.map((f) => f.reason)).toEqual(["authentication_failed", "authentication_failed"]);
  });

  it("fails a sealed token copied into another grant's row, and a session secret moved to another session", async () => {
    const a = await writeGrant([K1]);
    const b = await writeGrant([K1]);
    await t.db.em().execute(
      `update user_grant set access_token_sealed = (select access_token_sealed from user_grant where id = ?)
         where id = ?`,
      [a.id, b.id],
    );
    await expect(openGrant([K1], b)).rejects.toMatchObject({ reason: "authentication_failed" });
    expect((await openGrant([K1], a)).access).toBe(a.access);

    const s1 = await writeSession([K1], "pkce");
    const s2 = await writeSession([K1], "pkce");
    await t.db.em().execute(
      `update auth_session set pkce_verifier_sealed = (select pkce_verifier_sealed from auth_session where id = ?)
         where id = ?`,
      [s1.session.id, s2.session.id],
    );
    await expect(openSession([K1], s2.session.id)).rejects.toMatchObject({ reason: "authentication_failed" });

    const result = await resealAll(t.db, sealer(K2, K1));
    expect(result.failures).toEqual([
      { column: "user_grant.access_token", id: b.id, keyId: "k1", reason: "authentication_failed" },
      {
        column: "auth_session.pkce_verifier",
        id: s2.session.id,
        keyId: "k1",
        reason: "authentication_failed",
      },
    ]);
    expect(totals(result)).toEqual({ resealed: 4, current: 0, failed: 2, changed: 0 });
  });

  it("counts values under an unconfigured key as failed (unknown_key) and writes nothing", async () => {
    const g = await writeGrant([K1]);
    const before = await grantRow(g.id);
    const result = await resealAll(t.db, sealer(K2));
    expect(totals(result)).toEqual({ resealed: 0, current: 0, failed: 2, changed: 0 });
    expect(result.failures.map((f) => [f.id, f.keyId, f.reason])).toEqual([
      [g.id, "k1", "unknown_key"],
      [g.id, "k1", "unknown_key"],
    ]);
    expect(Buffer.compare((await grantRow(g.id)).access, before.access)).toBe(0);
  });

  it("lets a writer that rewrote a grant during the walk win, and leaves the refresh fencing working", async () => {
    const grants = [await writeGrant([K1]), await writeGrant([K1]), await writeGrant([K1])];
    const target = grants[1] as StoredGrant;
    const versionBefore = Number((await grantRow(grants[0]?.id as string)).version);
    // Between the walker's read and its write-back, a re-authorization replaces target's tokens
    // (sealed under the new key, as a replica configured [k2, k1] does).
    let rewritten: StoredGrant | undefined;
    const racing = withHookBeforeFirstTransaction(t.db, async () => {
      rewritten = await writeGrant([K2, K1], target.openId);
    });
    const result = await resealAll(racing, sealer(K2, K1));
    expect(result.columns["user_grant.access_token"]).toEqual({
      resealed: 2,
      current: 0,
      failed: 0,
      changed: 1,
    });
    // By the time the refresh column is walked, target's refresh token is already the writer's (k2).
    expect(result.columns["user_grant.refresh_token"]).toEqual({
      resealed: 2,
      current: 1,
      failed: 0,
      changed: 0,
    });
    expect(rewritten).toBeDefined();
    expect(await openGrant([K2], target)).toEqual({ access: rewritten?.access, refresh: rewritten?.refresh });

    // A refresher that read version N before the reseal still wins its compare-and-set on version.
    const fenced = await t.db
      .em()
      .execute<{ affectedRows: number }>(
        "update user_grant set version = version + 1, last_refresh_time = now() where id = ? and version = ?",
        [grants[0]?.id, versionBefore],
        "run",
      );
    expect(fenced.affectedRows).toBe(1);
  });

  it("never puts back an older secret while writers keep replacing grants (both run at once)", async () => {
    const grants = await Promise.all(Array.from({ length: 24 }, () => writeGrant([K1])));
    const latest = new Map(grants.map((g) => [g.id, g]));
    const writer = (async () => {
      for (const [i, g] of grants.entries()) {
        if (i % 2 === 1) continue;
        // Some replicas still seal under k1 while the rotation rolls out, some under k2.
        const keys = i % 3 === 0 ? [K1] : [K2, K1];
        latest.set(g.id, await writeGrant(keys, g.openId));
      }
    })();
    const [result] = await Promise.all([resealAll(t.db, sealer(K2, K1), { batchSize: 3 }), writer]);
    expect(result.failures).toEqual([]);
    for (const g of latest.values()) {
      expect(await openGrant([K2, K1], g)).toEqual({ access: g.access, refresh: g.refresh });
    }
    // A second pass catches whatever a k1 writer left behind.
    await resealAll(t.db, sealer(K2, K1));
    expect(await keyIdsInUse(t.db)).toEqual(new Map([["k2", 48]]));
  });

  it("stops between batches when the signal fires", async () => {
    await writeGrant([K1]);
    await writeGrant([K1]);
    const abort = new AbortController();
    abort.abort();
    const result = await resealAll(t.db, sealer(K2, K1), { batchSize: 1, signal: abort.signal });
    expect(result.complete).toBe(false);
    expect(totals(result).resealed).toBe(0);
    expect(await keyIdsInUse(t.db)).toEqual(new Map([["k1", 4]]));
  });
});

describe("assertKeysCover", () => {
  it("passes on an empty database and when every key id in use is configured", async () => {
    await assertKeysCover(t.db, [K2]);
    await writeGrant([K1]);
    await writeSession([K2], "device");
    await assertKeysCover(t.db, [K2, K1]);
  });

  it("throws one line naming the missing key id and how to recover, with no secret in it", async () => {
    const g = await writeGrant([K1]);
    const s = await writeSession([K1], "pkce");
    await writeGrant([K2]);
    const err = await assertKeysCover(t.db, [K2]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EncryptionKeysMissingError);
    const e = err as EncryptionKeysMissingError;
    expect(e.missingKeyIds).toEqual(["k1"]);
    expect(e.message).toContain("k1 (3 values)");
    expect(e.message).toContain("put the old key back in LARK_AUTH_ENCRYPTION_KEYS (after the new one)");
    expect(e.message).toContain("npm run reseal");
    expect(e.message).not.toContain("\n");
    expect(e.message).not.toMatch(/\bk2\b/);
    for (const leak of [
      g.access,
      g.refresh,
      s.pkceVerifier as string,
      K1.key.toString("base64"),
      K2.key.toString("base64"),
    ])
      expect(e.message).not.toContain(leak);
  });

  it("throws when a configured key id holds a different key than the one that sealed (wrong key)", async () => {
    await writeGrant([K1]);
    await writeSession([K1], "device");
    const impostor: SealingKey = { id: "k1", key: randomBytes(32) };
    const err = (await assertKeysCover(t.db, [K2, impostor]).catch(
      (e: unknown) => e,
    )) as EncryptionKeysMissingError;
    expect(err).toBeInstanceOf(EncryptionKeysMissingError);
    expect(err.wrongKeyIds).toEqual(["k1"]);
    expect(err.missingKeyIds).toEqual([]);
    expect(err.message).toMatch(/^LARK_AUTH_ENCRYPTION_KEYS: the key configured as k1 opens none/);
    expect(err.message).not.toContain(impostor.key.toString("base64"));
  });

  it("is not fooled into a wrong-key verdict by one damaged value", async () => {
    const bad = await writeGrant([K1]);
    await writeGrant([K1]);
    await tamperAccess(bad.id);
    await assertKeysCover(t.db, [K1]);
  });
});

/**
 * The database, but `hook` runs (once) just before the walker's first write transaction begins:
 * after it read and resealed a batch, before its compare-and-set, which is where a concurrent
 * writer can slip in.
 */
function withHookBeforeFirstTransaction(db: Database, hook: () => Promise<void>): Database {
  let fired = false;
  return {
    ...db,
    em() {
      const em = db.em();
      const transactional = em.transactional.bind(em);
      em.transactional = (async (
        work: Parameters<typeof transactional>[0],
        options?: Parameters<typeof transactional>[1],
      ) => {
        if (!fired) {
          fired = true;
          await hook();
        }
        return transactional(work, options);
      }) as typeof em.transactional;
      return em;
    },
  };
}
