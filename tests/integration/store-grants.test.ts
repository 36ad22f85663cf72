import { randomUUID } from "node:crypto";
import { wrap } from "@mikro-orm/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { UserGrantSchema } from "../../src/store/entities/index.js";
import { storeCall } from "../../src/store/store-errors.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
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
  it("turns an unreachable database into STORE_UNAVAILABLE and passes other errors through", async () => {
    const terminated = Object.assign(new Error("terminating connection due to administrator command"), {
      code: "57P01",
    });
    await expect(storeCall("test", () => Promise.reject(terminated))).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
      cause: terminated,
    });
    const violation = Object.assign(new Error("duplicate key"), { code: "23505" });
    await expect(storeCall("test", () => Promise.reject(violation))).rejects.toBe(violation);
    await expect(storeCall("test", () => Promise.reject(violation))).rejects.not.toBeInstanceOf(DomainError);
  });
});
