import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthEventSchema, UserGrantSchema } from "../../src/store/entities/index.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { buildSession, FACTORY_APP_ID, openId, seedApp } from "../support/factories.js";

/** The database itself refuses rows the domain could not read back, whoever writes them. */
describe("schema constraints", () => {
  let t: TestDatabase;
  const sql = (query: string, params: unknown[] = []) => t.db.em().getConnection().execute(query, params);

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedApp(t.db);
  });
  afterAll(async () => t?.close());

  async function pendingSession(): Promise<string> {
    const s = buildSession();
    await createSessionStore(t.db).insert(s);
    return s.id;
  }

  /** Applies one bad change to a valid pending session and expects the named constraint to refuse it. */
  async function expectRefused(change: string, constraint: string, params: unknown[] = []): Promise<void> {
    const id = await pendingSession();
    await expect(sql(`update auth_session set ${change} where id = ?`, [...params, id])).rejects.toThrow(
      constraint,
    );
  }

  it("refuses an unknown state, flow or user kind", async () => {
    await expectRefused("state = 'DONE', complete_time = now()", "auth_session_state_check");
    await expectRefused("flow = 'IMPLICIT'", "auth_session_flow_check");
    await expectRefused("requested_user_kind = 'phone'", "auth_session_requested_user_kind_check");
    await expectRefused("requested_user_value = ''", "auth_session_requested_user_not_blank");
  });

  it("refuses an AUTHORIZED session without a resolved open_id", async () => {
    await expectRefused(
      "state = 'AUTHORIZED', complete_time = now()",
      "auth_session_authorized_has_identity",
    );
  });

  it("ties complete_time to the session being final", async () => {
    await expectRefused("complete_time = now()", "auth_session_complete_iff_final");
    await expectRefused("state = 'DECLINED'", "auth_session_complete_iff_final");
  });

  it("refuses identity fields without an open_id, and failures without a reason", async () => {
    await expectRefused("email = 'x@example.com'", "auth_session_identity_anchored");
    await expectRefused("state = 'FAILED', complete_time = now()", "auth_session_failed_has_reason");
    await expectRefused("failure_reason = 'X'", "auth_session_no_failure_when_ok");
  });

  it("caps the caller context at 1 KiB of UTF-8", async () => {
    const id = await pendingSession();
    await sql("update auth_session set context = ? where id = ?", ["é".repeat(512), id]);
    await expectRefused("context = ?", "auth_session_context_size", [`${"é".repeat(512)}x`]);
  });

  it("refuses an expiry before creation and a session of an unknown app", async () => {
    await expectRefused("expire_time = create_time", "auth_session_expires_after_create");
    await expectRefused("app_id = 'cli_ffffffffffffffff'", "auth_session_app_id_foreign");
  });

  it("keeps idempotency keys unique per app, and any number of sessions without one", async () => {
    const store = createSessionStore(t.db);
    await seedApp(t.db, { appId: "cli_f000000000000003" });
    await store.insert(buildSession({ idempotencyKey: "k-1" }));
    await store.insert(buildSession({ appId: "cli_f000000000000003", idempotencyKey: "k-1" }));
    await store.insert(buildSession());
    await store.insert(buildSession());
    await expect(store.insert(buildSession({ idempotencyKey: "k-1" }))).rejects.toThrow(
      "auth_session_app_idempotency_key_uq",
    );
  });

  it("keeps one grant per app and user, with token data present", async () => {
    const grant = (open: string, extra: Record<string, unknown> = {}) => ({
      id: randomUUID(),
      appId: FACTORY_APP_ID,
      openId: open,
      scopes: ["offline_access"],
      accessTokenSealed: Buffer.from("sealed-access"),
      accessTokenKeyId: "k1",
      accessExpireTime: new Date(Date.now() + 7_200_000),
      ...extra,
    });
    const alice = openId();
    await t.db.em().insert(UserGrantSchema, grant(alice));
    await expect(t.db.em().insert(UserGrantSchema, grant(alice))).rejects.toThrow(
      "user_grant_app_open_id_uq",
    );
    const bad: [Record<string, unknown>, string][] = [
      [{ status: "EXPIRED" }, "user_grant_status_check"],
      [{ accessTokenSealed: Buffer.alloc(0) }, "user_grant_access_token_present"],
      [{ refreshTokenKeyId: "k1" }, "user_grant_refresh_sealed_with_key"],
      [{ refreshExpireTime: new Date() }, "user_grant_refresh_expiry_needs_token"],
      [{ leaseOwner: "replica-1" }, "user_grant_lease_complete"],
      [{ consecutiveRefreshFailures: -1 }, "user_grant_failures_non_negative"],
    ];
    for (const [extra, constraint] of bad) {
      await expect(t.db.em().insert(UserGrantSchema, grant(openId(), extra) as never)).rejects.toThrow(
        constraint,
      );
    }
  });

  it("refuses malformed app ids, unknown event types, non-object payloads and chosen event ids", async () => {
    await expect(seedApp(t.db, { appId: "app_1" })).rejects.toThrow("lark_app_app_id_format");
    const event = { appId: FACTORY_APP_ID, type: "AUTHORIZED", payload: {} };
    await expect(t.db.em().insert(AuthEventSchema, { ...event, type: "HAPPENED" } as never)).rejects.toThrow(
      "auth_event_type_check",
    );
    await expect(
      sql("insert into auth_event (type, app_id, payload) values ('FAILED', ?, '[]')", [FACTORY_APP_ID]),
    ).rejects.toThrow("auth_event_payload_is_object");
    await expect(
      sql("insert into auth_event (id, type, app_id, payload) values (1, 'FAILED', ?, '{}')", [
        FACTORY_APP_ID,
      ]),
    ).rejects.toThrow(/generated always|GENERATED ALWAYS|cannot insert/i);
  });
});
