// The AuthUnitOfWork on the real database (PGlite, or PostgreSQL with TEST_DATABASE_URL): single-use
// state under concurrency, the user lock, idempotency keys, sealed secrets and grants, events, CAS.
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { grantAad } from "../../src/store/grant-writer.js";
import { SessionTx, sessionAad } from "../../src/store/session-tx.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { buildSession, FACTORY_APP_ID, openId, seedApp } from "../support/factories.js";
import { type FlowParts, flowParts } from "../support/flow.js";

const CARD = { descriptionStyle: "DETAILED" } as const;
const hashOf = (state: string) => createHash("sha256").update(state).digest("hex");

let t: TestDatabase;
let f: FlowParts;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedApp(t.db);
  f = flowParts(t.db);
});
afterAll(async () => t?.close());

async function insert(overrides: Partial<AuthSession> = {}, secrets = {}): Promise<AuthSession> {
  const session = buildSession({ createTime: f.clock.now(), ...overrides });
  await f.uow.run((tx) => tx.insertSession(session, CARD, secrets));
  return session;
}

/** Every column of every row of `table` as text: where a plaintext secret would show if it leaked. */
async function rawText(table: "auth_session" | "user_grant" | "auth_event"): Promise<string> {
  const rows = await t.db.em().execute(`select t::text as row from ${table} t`);
  return rows.map((r) => String(r.row)).join("\n");
}

describe("consumeState", () => {
  it("lets exactly one of 20 concurrent consumers claim a state; the rest see it used", async () => {
    const state = randomBytes(32).toString("base64url");
    const session = await insert({}, { oauthStateHash: hashOf(state) });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => f.uow.run((tx) => tx.consumeState(hashOf(state)))),
    );
    const winners = answers.filter((a) => typeof a === "object");
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ session: { id: session.id, state: "PENDING" } });
    expect(answers.filter((a) => a === "used")).toHaveLength(19);
    expect(await f.uow.run((tx) => tx.consumeState(hashOf("never issued")))).toBeUndefined();
  });

  it("gives the state back after releaseState, and the raw state is stored nowhere", async () => {
    const state = randomBytes(32).toString("base64url");
    const session = await insert({}, { oauthStateHash: hashOf(state) });
    expect(await f.uow.run((tx) => tx.consumeState(hashOf(state)))).toMatchObject({
      session: { id: session.id },
    });
    await f.uow.run((tx) => tx.releaseState(session.id));
    expect(await f.uow.run((tx) => tx.consumeState(hashOf(state)))).toMatchObject({
      session: { id: session.id },
    });
    expect(await rawText("auth_session")).not.toContain(state);
  });

  it("rolls the claim back when the transaction fails", async () => {
    const state = randomBytes(32).toString("base64url");
    await insert({}, { oauthStateHash: hashOf(state) });
    const failing = f.uow.run(async (tx) => {
      await tx.consumeState(hashOf(state));
      throw new Error("exchange crashed");
    });
    await expect(failing).rejects.toThrow("exchange crashed");
    expect(await f.uow.run((tx) => tx.consumeState(hashOf(state)))).toHaveProperty("session");
  });
});

describe("lockUser", () => {
  it("serialises check-then-insert: 10 concurrent starters under a limit of 5 create exactly 5", async () => {
    const user = { kind: "open_id" as const, value: openId() };
    const since = new Date(f.clock.now().getTime() - 60_000);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        f.uow.run(async (tx) => {
          await tx.lockUser(FACTORY_APP_ID, user);
          const { count } = await tx.recentStarts(FACTORY_APP_ID, user, since);
          if (count < 5) await tx.insertSession(buildSession({ user, createTime: f.clock.now() }), CARD, {});
        }),
      ),
    );
    const counted = await f.uow.run((tx) => tx.recentStarts(FACTORY_APP_ID, user, since));
    expect(counted.count).toBe(5);
  });
});

describe("session lookups", () => {
  it("finds a session by idempotency key, and the pending one by requested or resolved identity", async () => {
    const key = `key-${randomBytes(4).toString("hex")}`;
    const session = await insert({ idempotencyKey: key, user: { kind: "email", value: "Ann@Example.com" } });
    expect(await f.uow.run((tx) => tx.sessionByIdempotencyKey(FACTORY_APP_ID, key))).toEqual(session);
    expect(await f.uow.run((tx) => tx.sessionByIdempotencyKey(FACTORY_APP_ID, "other"))).toBeUndefined();
    const byEmail = await f.uow.run((tx) =>
      tx.pendingFor(FACTORY_APP_ID, { kind: "email", value: "ann@example.COM" }),
    );
    expect(byEmail?.id).toBe(session.id);
    const resolved = await insert({ identity: { openId: openId(), email: "bob@example.com" } });
    const byOpenId = await f.uow.run((tx) =>
      tx.pendingFor(FACTORY_APP_ID, { kind: "open_id", value: resolved.identity?.openId ?? "" }),
    );
    expect(byOpenId?.id).toBe(resolved.id);
  });
});

describe("sealed secrets", () => {
  it("seals the PKCE verifier with the row as AAD and opens it again", async () => {
    const verifier = randomBytes(32).toString("base64url");
    const session = await insert({}, { pkceVerifier: verifier });
    expect(await f.uow.run((tx) => tx.openSecrets(session.id))).toEqual({ pkceVerifier: verifier });
    expect(await rawText("auth_session")).not.toContain(verifier);
    const [row] = await t.db
      .em()
      .execute("select pkce_verifier_sealed, pkce_verifier_key_id from auth_session where id = ?", [
        session.id,
      ]);
    const sealed = Buffer.from(row?.pkce_verifier_sealed as Uint8Array).toString("utf8");
    expect(row?.pkce_verifier_key_id).toBe("k1");
    expect(() => f.sealer.open(sealed, sessionAad(buildSession().id, "pkce_verifier"))).toThrow();
  });

  it("stores a grant with no plaintext token in any column, replaces it on re-authorization", async () => {
    const identity = { openId: openId(), email: "carol@example.com", name: "Carol" };
    const access = `eyJaccess${randomBytes(16).toString("hex")}`;
    const refresh = `eyJrefresh${randomBytes(16).toString("hex")}`;
    const write = (accessToken: string) =>
      f.uow.run((tx) =>
        tx.upsertGrant({
          appId: FACTORY_APP_ID,
          identity,
          scopes: ["contact:user.base:readonly", "offline_access"],
          accessToken,
          accessExpireTime: new Date(Date.now() + 7_200_000),
          refreshToken: refresh,
          refreshExpireTime: new Date(Date.now() + 604_800_000),
        }),
      );
    await write(access);
    await write(`${access}-2`);
    const text = await rawText("user_grant");
    expect(text).not.toContain(access);
    expect(text).not.toContain(refresh);
    const rows = await t.db.em().execute("select * from user_grant where open_id = ?", [identity.openId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ version: "2", status: "ACTIVE", access_token_key_id: "k1" });
    const sealed = Buffer.from(rows[0]?.access_token_sealed as Uint8Array).toString("utf8");
    expect(f.sealer.open(sealed, grantAad(FACTORY_APP_ID, identity.openId, "access"))).toBe(`${access}-2`);
    // Bound to its row and field: the same ciphertext does not open as the refresh token.
    expect(() => f.sealer.open(sealed, grantAad(FACTORY_APP_ID, identity.openId, "refresh"))).toThrow();
    expect(
      await f.uow.run((tx) => tx.grantScopes(FACTORY_APP_ID, { kind: "email", value: "CAROL@example.com" })),
    ).toEqual(["contact:user.base:readonly", "offline_access"]);
  });
});

describe("updateSession and events", () => {
  it("is a compare-and-set on the version this transaction read", async () => {
    const session = await insert();
    await t.db.em().transactional(async (em) => {
      const stx = new SessionTx(em, f.sealer, () => f.clock.now());
      const read = await stx.lock(session.id);
      // Another writer that ignored the row lock (same connection here, so it cannot block).
      await em.execute("update auth_session set version = version + 1 where id = ?", [session.id]);
      await expect(stx.update({ ...(read as AuthSession), context: "x" })).rejects.toMatchObject({
        code: "SESSION_CONFLICT",
      });
    });
    await expect(f.uow.run((tx) => tx.updateSession(session))).rejects.toThrow(
      /not read in this transaction/,
    );
  });

  it("appends an event with a session snapshot and schedules the card on a change", async () => {
    const session = await insert({ context: "resume-42" });
    await f.uow.run(async (tx) => {
      const locked = (await tx.lockSession(session.id)) as AuthSession;
      const done = {
        ...locked,
        state: "CANCELLED" as const,
        completeTime: f.clock.now(),
        failureReason: "SUPERSEDED",
      };
      await tx.updateSession(done, "schedule");
      await tx.appendEvent({ type: "CANCELLED", appId: done.appId, session: done, reason: "SUPERSEDED" });
    });
    const [event] = await t.db.em().execute("select * from auth_event where session_id = ?", [session.id]);
    expect(event).toMatchObject({ type: "CANCELLED", reason: "SUPERSEDED" });
    expect((event as { payload: { session: unknown } }).payload.session).toMatchObject({
      id: session.id,
      state: "CANCELLED",
      context: "resume-42",
    });
    const [row] = await t.db
      .em()
      .execute("select version, card_next_attempt_time from auth_session where id = ?", [session.id]);
    expect(row).toMatchObject({ version: 2 });
    expect(row?.card_next_attempt_time).not.toBeNull();
  });
});
