// Start-up refuses keys that cannot open what is stored: a key dropped before `npm run reseal`
// finished would otherwise surface only when a user's token is needed.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { parseConfig } from "../../src/config/index.js";
import { createSealer } from "../../src/crypto/seal.js";
import { upsertSealedGrant } from "../../src/store/grant-writer.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { FACTORY_APP_ID, openId, seedApp } from "../support/factories.js";

const OLD = { id: "old", key: randomBytes(32) };
const NEW = { id: "new", key: randomBytes(32) };
const b64 = (k: Buffer) => k.toString("base64");

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedApp(t.db);
  await t.db.em().transactional((em) =>
    upsertSealedGrant(
      em,
      createSealer([OLD]),
      {
        appId: FACTORY_APP_ID,
        identity: { openId: openId() },
        scopes: ["offline_access"],
        accessToken: "u-access-secret",
        accessExpireTime: new Date(Date.now() + 7_200_000),
        refreshToken: "ur-refresh-secret",
      },
      new Date(),
    ),
  );
});
afterAll(async () => t?.close());

function configWith(keys: string) {
  return parseConfig({
    LARK_AUTH_GRPC_PORT: "0",
    LARK_AUTH_HTTP_PORT: "0",
    LARK_AUTH_BIND_HOST: "127.0.0.1",
    LARK_AUTH_SANDBOX: "0",
    LARK_APP_ID: FACTORY_APP_ID,
    LARK_APP_SECRET: "test-app-secret-value",
    LARK_DOMAIN: "http://127.0.0.1:9",
    LARK_AUTH_ENCRYPTION_KEYS: keys,
  });
}

describe("encryption keys at start-up", () => {
  it("refuses to start without the key that sealed stored rows, naming it and never the key", async () => {
    const start = buildApp(configWith(`new=${b64(NEW.key)}`), {
      db: t.db,
      logger: createLogger({ level: "silent" }),
    });
    const err = (await start.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain("old");
    expect(err.message).toContain("LARK_AUTH_ENCRYPTION_KEYS");
    expect(err.message).not.toContain(b64(NEW.key));
    expect(err.message.split("\n")).toHaveLength(1);
  });

  it("starts when the old key is still listed after the new one", async () => {
    const app = await buildApp(configWith(`new=${b64(NEW.key)},old=${b64(OLD.key)}`), {
      db: t.db,
      logger: createLogger({ level: "silent" }),
    });
    await app.close();
  });
});
