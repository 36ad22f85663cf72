import { request } from "node:http";
import { Code, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { rejection } from "../support/rpc.js";
import { ADMIN_KEY, startTestApp, TEST_APP_ID, type TestApp, withKey } from "../support/test-app.js";

describe("the edge: authentication, validation, unimplemented, HTTP endpoints", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it("answers UNAUTHENTICATED without a key, with an unknown key and with a malformed header", async () => {
    for (const transport of Object.values(t.transports())) {
      const auth = createClient(AuthService, transport);
      const cases = [
        {},
        withKey("lak_not_a_real_key_0000000000"),
        { headers: { authorization: "Basic abc" } },
      ];
      for (const opts of cases) {
        const err = await rejection(
          auth.getAuthSession({ sessionId: "00000000-0000-4000-8000-000000000000" }, opts),
        );
        expect(err.code).toBe(Code.Unauthenticated);
        expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("UNAUTHENTICATED");
      }
    }
  });

  it("validates before any work and names every bad field", async () => {
    const { auth, token } = t.clients();
    const bad = await rejection(auth.getAuthSession({ sessionId: "not-a-uuid" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toContain("session_id");
    expect(bad.findDetails(BadRequestSchema)[0]?.fieldViolations[0]?.field).toBe("session_id");
    const several = await rejection(
      auth.listAuthSessions({ appId: "cli_bad", pageSize: -1, pageToken: "x".repeat(600) }),
    );
    const fields = several.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field);
    expect(fields).toEqual(["app_id", "page_size", "page_token"]);
    for (const f of ["app_id", "page_size", "page_token"]) expect(several.rawMessage).toContain(f);
    const missing = await rejection(auth.listAuthSessions({}));
    expect(missing.rawMessage).toContain("app_id: is required");
    const email = await rejection(
      token.getUserAccessToken({ appId: TEST_APP_ID, user: { id: { case: "email", value: "a@b.co" } } }),
    );
    expect(email.code).toBe(Code.InvalidArgument);
    expect(email.rawMessage).toContain("user.email");
    const size = await rejection(auth.listAuthSessions({ appId: TEST_APP_ID, pageSize: 1000 }));
    expect(size.rawMessage).toContain("page_size");
    const ctx = await rejection(
      auth.startAuthorization({
        appId: TEST_APP_ID,
        user: { id: { case: "openId", value: "ou_abc" } },
        context: "x".repeat(1025),
      }),
    );
    expect(ctx.rawMessage).toContain("context");
  });

  it("refuses a request over 1 MiB on every transport before decoding it", async () => {
    // Just over the limit: far larger bodies get the answer too, but HTTP/1.1 clients may see the reset first.
    const big = { appId: TEST_APP_ID, pageToken: "x".repeat(1024 * 1024 + 1024) };
    for (const [name, transport] of Object.entries(t.transports())) {
      const err = await rejection(
        createClient(AuthService, transport).listAuthSessions(big, withKey(ADMIN_KEY)),
      );
      expect(err.code, name).toBe(Code.ResourceExhausted);
    }
  });

  it("answers a real refusal, never a fake token, when a user has no grant", async () => {
    const { token } = t.clients();
    const user = { id: { case: "openId" as const, value: "ou_abc" } };
    // Every RPC has landed: without a grant the answer is a real one, never a fake token.
    expect((await rejection(token.getUserAccessToken({ appId: TEST_APP_ID, user }))).code).toBe(
      Code.FailedPrecondition,
    );
  });

  it("serves /healthz, /readyz and /metrics", async () => {
    const health = await fetch(`${t.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${t.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", database: "ok", migrations: "ok" });
    await t.clients().auth.listAuthSessions({ appId: TEST_APP_ID });
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /lark_auth_rpc_duration_seconds_count\{method="ListAuthSessions",code="OK",reason="OK"\} \d+/,
    );
  });

  it("answers a plain request that offers an h2c upgrade, as Java's HttpClient does, like any other", async () => {
    // HTTP/1.1 clients may offer an upgrade the server is free to ignore; only WebSocket upgrades are taken.
    const offer = {
      connection: "Upgrade, HTTP2-Settings",
      upgrade: "h2c",
      "http2-settings": "AAMAAABkAAQAoAAAAAIAAAAA",
    };
    const status = (path: string, method: string, body?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        // A connection of its own, as a client's first request has: never a pooled socket of another test.
        const req = request(`${t.httpUrl}${path}`, {
          agent: false,
          method,
          headers: { ...offer, "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` },
        });
        req.on("response", (res) => {
          let text = "";
          res.on("data", (chunk) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on("error", reject);
        req.end(body);
      });
    expect((await status("/healthz", "GET")).status).toBe(200);
    const listed = await status(
      "/lark.auth.v1.AuthService/ListAuthSessions",
      "POST",
      JSON.stringify({ app_id: TEST_APP_ID }),
    );
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body)).toEqual({});
  });

  it("keeps secrets out of logs", async () => {
    await rejection(
      t.clients("lak_secret_presented_key_123456789").auth.listAuthSessions({ appId: TEST_APP_ID }),
    );
    const text = t.logs.lines.join("\n");
    expect(text).not.toContain("lak_secret_presented_key_123456789");
    expect(text).not.toContain("test-app-secret-value");
    const rejected = t.logs
      .records()
      .find((r) => r.reason === "UNAUTHENTICATED" && r.rpc === "ListAuthSessions");
    expect(rejected).toMatchObject({ app_id: TEST_APP_ID, rpc: "ListAuthSessions", level: "info" });
    expect(rejected?.request_id).toEqual(expect.any(String));
  });
});
