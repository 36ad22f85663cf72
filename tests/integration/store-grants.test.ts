import { randomUUID } from "node:crypto";
import { wrap } from "@mikro-orm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { UserGrantSchema } from "../../src/store/entities/index.js";
import { storeCall } from "../../src/store/store-errors.js";
import { connectRaw, createTestDatabase, type TestDatabase } from "../support/db.js";
import { FACTORY_APP_ID, openId, seedApp } from "../support/factories.js";

describe("user grants", () => {
  let t: TestDatabase;
  const access = Buffer.from("nonce|ciphertext|tag: access");
  const refresh = Buffer.from("nonce|ciphertext|tag: refresh");

  async function insertGrant(): Promise<string> {
    const id = randomUUID();
    await t.db.em().insert(UserGrantSchema, {
      id,
      appId: FACTORY_APP_ID,
      openId: openId(),
      scopes: ["offline_access"],
      accessTokenSealed: access,
      accessTokenKeyId: "k1",
      accessExpireTime: new Date(Date.now() + 7_200_000),
      refreshTokenSealed: refresh,
      refreshTokenKeyId: "k1",
    });
    return id;
  }

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedApp(t.db);
  });
  afterAll(async () => t?.close());

  it("neither loads nor serializes sealed tokens unless asked to", async () => {
    const id = await insertGrant();
    const row = await t.db.em().findOneOrFail(UserGrantSchema, { id });
    expect(row.accessTokenSealed).toBeUndefined();
    expect(row.status).toBe("ACTIVE");
    expect(row.version).toBe(1);
    const loaded = await t.db
      .em()
      .findOneOrFail(UserGrantSchema, { id }, { populate: ["accessTokenSealed", "refreshTokenSealed"] });
    expect(Buffer.compare(loaded.accessTokenSealed, access)).toBe(0);
    expect(Buffer.compare(loaded.refreshTokenSealed as Buffer, refresh)).toBe(0);
    const plain = wrap(loaded).toObject() as Record<string, unknown>;
    expect(plain).not.toHaveProperty("accessTokenSealed");
    expect(plain).not.toHaveProperty("refreshTokenSealed");
    expect(JSON.stringify(loaded)).not.toContain("ciphertext");
  });

  it("fences writes with a compare-and-set on version", async () => {
    const id = await insertGrant();
    const cas = (expected: number) =>
      t.db
        .em()
        .nativeUpdate(
          UserGrantSchema,
          { id, version: expected },
          { version: expected + 1, lastRefreshTime: new Date() },
        );
    expect(await cas(1)).toBe(1);
    // A writer that read version 1 before someone else's refresh must lose.
    expect(await cas(1)).toBe(0);
    expect((await t.db.em().findOneOrFail(UserGrantSchema, { id })).version).toBe(2);
  });
});

describe("store errors", () => {
  it("turns a connection lost mid-transaction into STORE_UNAVAILABLE", async () => {
    const victim = await createTestDatabase();
    const admin = await connectRaw(victim.url);
    let closing: Promise<void> | undefined;
    try {
      const outcome = storeCall("test", () =>
        victim.db.em().transactional(async (em) => {
          const [row] = await em.execute<{ pid: number }[]>("select pg_backend_pid() as pid");
          if (victim.db.mode === "postgres") {
            // The server ends our backend, as a failover or an operator would.
            await admin.query("select pg_terminate_backend($1)", [row?.pid]);
          } else {
            // The embedded server goes away under us: close cuts our connection at half its limit.
            closing = victim.db.close(400);
            await new Promise((r) => setTimeout(r, 300));
          }
          await em.execute("select 1");
        }),
      );
      await expect(outcome).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    } finally {
      await closing;
      await admin.end().catch(() => {});
      await victim.close();
    }
  });

  it("passes a constraint violation through unchanged", async () => {
    const t = await createTestDatabase();
    try {
      await seedApp(t.db);
      const insert = () => t.db.em().getConnection().execute("insert into lark_app select * from lark_app");
      const err = await storeCall("test", insert).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "23505" });
      expect(err).not.toBeInstanceOf(DomainError);
    } finally {
      await t.close();
    }
  });
});
