import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { AuthSessionState, UserRefSchema } from "../../gen/lark/auth/v1/types_pb.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { buildSession, seedApp } from "../support/factories.js";
import { reasonOf, rejection } from "../support/rpc.js";
import {
  ADMIN_KEY,
  OTHER_APP_ID,
  READER_KEY,
  startTestApp,
  TEST_APP_ID,
  type TestApp,
  withKey,
} from "../support/test-app.js";

describe("AuthService sessions slice (RPC -> domain -> store -> database)", () => {
  let t: TestApp;
  const openId = "ou_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const sessionIds: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const store = createSessionStore(t.db);
    // Recent, so they are still pending while the test runs: the app's expiry sweeper ends stale ones.
    const base = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    for (let i = 0; i < 7; i++) {
      const s = buildSession({
        appId: TEST_APP_ID,
        user: { kind: "open_id", value: openId },
        createTime: new Date(base + i * 1000),
        expireTime: new Date(base + i * 1000 + 600_000),
        context: `ctx-${i}`,
      });
      await store.insert(s);
      sessionIds.push(s.id);
    }
    await store.insert(
      buildSession({
        appId: TEST_APP_ID,
        user: { kind: "open_id", value: "ou_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" },
      }),
    );
  });
  afterAll(async () => t?.close());

  it("returns a stored session on every transport", async () => {
    const id = sessionIds[3] as string;
    for (const transport of Object.values(t.transports())) {
      const client = createClient(AuthService, transport);
      const res = await client.getAuthSession({ sessionId: id }, withKey(ADMIN_KEY));
      expect(res.session?.sessionId).toBe(id);
      expect(res.session?.appId).toBe(TEST_APP_ID);
      expect(res.session?.state).toBe(AuthSessionState.PENDING);
      expect(res.session?.context).toBe("ctx-3");
      expect(res.session?.user?.id).toEqual({ case: "openId", value: openId });
      expect(res.session?.expireTime?.seconds).toBe((res.session?.createTime?.seconds ?? 0n) + 600n);
    }
  });

  it("answers NOT_FOUND with ErrorInfo reason SESSION_NOT_FOUND for an unknown id", async () => {
    const err = await rejection(t.clients().auth.getAuthSession({ sessionId: randomUUID() }));
    expect(err.code).toBe(Code.NotFound);
    expect(reasonOf(err)).toBe("SESSION_NOT_FOUND");
    expect(err.findDetails(ErrorInfoSchema)[0]?.domain).toBe("lark-auth");
  });

  it("pages newest first without repeats or gaps, filtered by user", async () => {
    const { auth } = t.clients();
    const user = create(UserRefSchema, { id: { case: "openId", value: openId } });
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await auth.listAuthSessions({ appId: TEST_APP_ID, user, pageSize: 3, pageToken });
      expect(page.sessions.length).toBeLessThanOrEqual(3);
      seen.push(...page.sessions.map((s) => s.sessionId));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toEqual([...sessionIds].reverse());
  });

  it("filters by state", async () => {
    const res = await t
      .clients()
      .auth.listAuthSessions({ appId: TEST_APP_ID, states: [AuthSessionState.AUTHORIZED] });
    expect(res.sessions).toEqual([]);
    expect(res.nextPageToken).toBe("");
    // The filter selects, not merely empties: every seeded session is PENDING.
    const pending = await t
      .clients()
      .auth.listAuthSessions({ appId: TEST_APP_ID, states: [AuthSessionState.PENDING] });
    expect(pending.sessions).toHaveLength(8);
  });

  it("rejects a forged page token as INVALID_ARGUMENT naming the field", async () => {
    const err = await rejection(
      t.clients().auth.listAuthSessions({ appId: TEST_APP_ID, pageToken: "bm9wZQ" }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("page_token");
  });

  it("enforces per-app permissions", async () => {
    const reader = t.clients(READER_KEY).auth;
    await expect(reader.listAuthSessions({ appId: TEST_APP_ID })).resolves.toBeDefined();
    const err = await rejection(reader.listAuthSessions({ appId: OTHER_APP_ID }));
    expect(err.code).toBe(Code.PermissionDenied);
    expect(reasonOf(err)).toBe("PERMISSION_DENIED");
    const start = await rejection(
      reader.startAuthorization({ appId: TEST_APP_ID, user: { id: { case: "openId", value: openId } } }),
    );
    expect(start.code).toBe(Code.PermissionDenied);
  });

  it("answers a session of an app the caller may not read exactly as an unknown id (no existence oracle)", async () => {
    await seedApp(t.db, { appId: OTHER_APP_ID });
    const hidden = buildSession({ appId: OTHER_APP_ID });
    await createSessionStore(t.db).insert(hidden);
    const unknown = randomUUID();
    for (const transport of Object.values(t.transports())) {
      const client = createClient(AuthService, transport);
      const errs = [
        await rejection(client.getAuthSession({ sessionId: hidden.id }, withKey(READER_KEY))),
        await rejection(client.getAuthSession({ sessionId: unknown }, withKey(READER_KEY))),
      ];
      const [seen, missing] = errs.map((e) => ({
        code: e.code,
        message: e.rawMessage.replace(hidden.id, "<id>").replace(unknown, "<id>"),
        info: e.findDetails(ErrorInfoSchema).map((i) => ({
          reason: i.reason,
          domain: i.domain,
          metadata: { ...i.metadata, session_id: "<id>" },
        })),
      }));
      expect(seen?.code).toBe(Code.NotFound);
      expect(seen).toEqual(missing);
    }
    // A caller allowed to read that app sees it.
    const admin = await t.clients(ADMIN_KEY).auth.getAuthSession({ sessionId: hidden.id });
    expect(admin.session?.appId).toBe(OTHER_APP_ID);
  });
});
