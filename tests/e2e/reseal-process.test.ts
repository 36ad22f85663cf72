// `npm run reseal` as a real process against a real database (an embedded data dir, or a fresh
// database on TEST_DATABASE_URL): exit codes, its one summary line, and that nothing it prints holds a
// token, a sealed value or a key. Also that a missing or malformed key stops `npm start` with one line.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSealer, type SealingKey } from "../../src/crypto/seal.js";
import { createAuthUnitOfWork } from "../../src/store/auth-tx.js";
import { type Database, openDatabase } from "../../src/store/database.js";
import { grantAad, upsertSealedGrant } from "../../src/store/grant-writer.js";
import { keyIdsInUse } from "../../src/store/key-check.js";
import { createTestDatabase, type TestDatabase, testServerUrl } from "../support/db.js";
import { buildSession, FACTORY_APP_ID, openId, seedApp } from "../support/factories.js";
import { REPO_ROOT, spawnService } from "../support/service-process.js";

const K1: SealingKey = { id: "k1", key: randomBytes(32) };
const K2: SealingKey = { id: "k2", key: randomBytes(32) };
const spec = (...keys: SealingKey[]) => keys.map((k) => `${k.id}=${k.key.toString("base64")}`).join(",");
const CARD = { descriptionStyle: "DETAILED" } as const;
const APP_SECRET = `app-secret-${randomBytes(8).toString("hex")}`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run --silent reseal` in the repository with only `env` (plus PATH and HOME). */
function npmReseal(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      "npm",
      ["run", "--silent", "reseal"],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The database the child uses: a data dir (opened here only between runs) or a PostgreSQL database. */
interface Target {
  readonly env: Record<string, string>;
  /** Runs `work` on the database while no child holds it. */
  use<T>(work: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function target(): Promise<Target> {
  if (testServerUrl() !== undefined) {
    const t: TestDatabase = await createTestDatabase();
    return { env: { DATABASE_URL: t.url as string }, use: (work) => work(t.db), close: () => t.close() };
  }
  const dir = await mkdtemp(join(tmpdir(), "lark-auth-reseal-"));
  return {
    env: { LARK_AUTH_DATA_DIR: dir },
    async use(work) {
      // The embedded database belongs to one process at a time (the data dir is locked).
      const db = await openDatabase({ dataDir: dir });
      try {
        return await work(db);
      } finally {
        await db.close();
      }
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

describe("npm run reseal as a process", () => {
  let db: Target;
  const secrets: string[] = [];
  let grant: { id: string; openId: string; access: string; refresh: string };

  const env = (keys: string) => ({
    ...db.env,
    LARK_APP_ID: FACTORY_APP_ID,
    LARK_APP_SECRET: APP_SECRET,
    LARK_AUTH_ENCRYPTION_KEYS: keys,
  });

  /** Nothing printed may hold a secret, a key (either encoding) or a sealed value. */
  async function expectNoSecrets(run: Run): Promise<void> {
    const printed = `${run.stdout}\n${run.stderr}`;
    const sealed = await db.use(async (d) => {
      const rows = await d
        .em()
        .execute<{ v: string }[]>(
          "select convert_from(access_token_sealed, 'UTF8') as v from user_grant union all " +
            "select convert_from(refresh_token_sealed, 'UTF8') from user_grant",
        );
      return rows.map((r) => r.v);
    });
    for (const s of [...secrets, ...sealed, APP_SECRET]) expect(printed).not.toContain(s);
    for (const k of [K1, K2])
      for (const enc of ["base64", "base64url", "hex"] as const)
        expect(printed).not.toContain(k.key.toString(enc));
    expect(printed).not.toMatch(/v1\.k\d\./);
  }

  beforeAll(async () => {
    db = await target();
    const sealer = createSealer([K1]);
    grant = {
      id: "",
      openId: openId(),
      access: `u-${randomBytes(16).toString("hex")}`,
      refresh: `ur-${randomBytes(16).toString("hex")}`,
    };
    secrets.push(grant.access, grant.refresh);
    await db.use(async (d) => {
      await seedApp(d);
      for (const [i, user] of [grant.openId, openId(), openId()].entries()) {
        const access = i === 0 ? grant.access : `u-${randomBytes(16).toString("hex")}`;
        const refresh = i === 0 ? grant.refresh : `ur-${randomBytes(16).toString("hex")}`;
        if (i > 0) secrets.push(access, refresh);
        await d.em().transactional((em) =>
          upsertSealedGrant(
            em,
            sealer,
            {
              appId: FACTORY_APP_ID,
              identity: { openId: user },
              scopes: ["offline_access"],
              accessToken: access,
              accessExpireTime: new Date(Date.now() + 7_200_000),
              refreshToken: refresh,
            },
            new Date(),
          ),
        );
      }
      const [row] = await d
        .em()
        .execute<{ id: string }[]>("select id::text as id from user_grant where open_id = ?", [grant.openId]);
      grant = { ...grant, id: (row as { id: string }).id };
      // A session with a sealed PKCE verifier, and one with nothing sealed (the walker passes over it).
      const uow = createAuthUnitOfWork(d, { sealer, clock: { now: () => new Date() } });
      const verifier = `pkce-${randomBytes(16).toString("hex")}`;
      secrets.push(verifier);
      await uow.run((tx) => tx.insertSession(buildSession(), CARD, { pkceVerifier: verifier }));
      await uow.run((tx) => tx.insertSession(buildSession(), CARD, {}));
    });
  }, 60_000);
  afterAll(async () => db?.close());

  it("re-seals every value under the newest key, prints one summary line and exits 0", async () => {
    const run = await npmReseal(env(spec(K2, K1)));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^resealed 7, already current 0, failed 0, changed meanwhile 0 under key k2 in \d+ ms; every value is under k2: older keys may be removed$/,
    );
    await expectNoSecrets(run);
    await db.use(async (d) => {
      expect(await keyIdsInUse(d)).toEqual(new Map([["k2", 7]]));
      const [row] = await d
        .em()
        .execute<{ v: Buffer }[]>("select access_token_sealed as v from user_grant where id = ?", [grant.id]);
      const sealed = Buffer.from((row as { v: Buffer }).v).toString("utf8");
      expect(createSealer([K2]).open(sealed, grantAad(FACTORY_APP_ID, grant.openId, "access"))).toBe(
        grant.access,
      );
    });

    // Again, with the old key gone: all verified, nothing to do.
    const again = await npmReseal(env(spec(K2)));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^resealed 0, already current 7, failed 0, /);
  }, 90_000);

  it("exits 1 naming the row and column of a tampered value, and prints no secret", async () => {
    await db.use((d) =>
      d.em().execute(
        `update user_grant set access_token_sealed =
             set_byte(access_token_sealed, 30, case when get_byte(access_token_sealed, 30) = 65 then 66 else 65 end)
           where id = ?`,
        [grant.id],
      ),
    );
    const run = await npmReseal(env(spec(K2)));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^resealed 0, already current 6, failed 1, .*values that failed to open stay/);
    expect(run.stderr).toContain(
      `cannot open user_grant.access_token of row ${grant.id} (key k2): authentication_failed`,
    );
    await expectNoSecrets(run);
  }, 90_000);

  it("exits 1 with one config line for a missing or malformed key", async () => {
    const malformed = await npmReseal(env(`k2=${randomBytes(16).toString("base64")}`));
    expect(malformed.code).toBe(1);
    expect(malformed.stdout).toBe("");
    expect(malformed.stderr.trim()).toBe(
      "config error: LARK_AUTH_ENCRYPTION_KEYS: key k2 must be the base64 of exactly 32 bytes",
    );
    const { LARK_AUTH_ENCRYPTION_KEYS: _, ...noKeys } = env("");
    const missing = await npmReseal(noKeys);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/^config error: LARK_AUTH_ENCRYPTION_KEYS: required outside sandbox mode/);
  }, 90_000);
});

describe("npm start with a missing or malformed encryption key", () => {
  it("stops before starting anything, with one line naming the setting and no key material", async () => {
    const short = randomBytes(16).toString("base64");
    for (const [keys, expected] of [
      [
        `k1=${short}`,
        "config error: LARK_AUTH_ENCRYPTION_KEYS: key k1 must be the base64 of exactly 32 bytes",
      ],
      ["k1", "config error: LARK_AUTH_ENCRYPTION_KEYS: entry 1 must be key_id=<base64 of 32 random bytes>"],
      [undefined, "config error: LARK_AUTH_ENCRYPTION_KEYS: required outside sandbox mode"],
    ] as const) {
      const proc = spawnService({
        LARK_APP_ID: FACTORY_APP_ID,
        LARK_APP_SECRET: APP_SECRET,
        ...(keys !== undefined && { LARK_AUTH_ENCRYPTION_KEYS: keys }),
      });
      expect(await proc.exited).toEqual({ code: 1, signal: null });
      const lines = proc.stderr().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]?.startsWith(expected)).toBe(true);
      expect(proc.stderr()).not.toContain(short);
      expect(proc.stdout()).toBe("");
    }
  }, 60_000);
});
