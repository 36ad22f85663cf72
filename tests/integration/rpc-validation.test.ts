import { fileURLToPath } from "node:url";
import { Code, createClient } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { AuthSessionState } from "../../gen/lark/auth/v1/types_pb.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { buildSession } from "../support/factories.js";
import { reasonOf, rejection } from "../support/rpc.js";
import {
  ADMIN_KEY,
  READER_KEY,
  startTestApp,
  TEST_APP_ID,
  type TestApp,
  withKey,
} from "../support/test-app.js";

const PROTO_DIR = fileURLToPath(new URL("../../proto", import.meta.url));
const SOME_UUID = "00000000-0000-4000-8000-000000000000";

/** A caller as a Go or Python service would be: grpc-js stubs built from the .proto files. */
function plainAuthClient(port: number) {
  const def = protoLoader.loadSync(["lark/auth/v1/auth_service.proto"], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    defaults: true,
    oneofs: true,
  });
  // biome-ignore lint/suspicious/noExplicitAny: dynamic stubs are untyped by nature.
  const pkg = grpc.loadPackageDefinition(def) as any;
  return new pkg.lark.auth.v1.AuthService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function bearer(key: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${key}`);
  return md;
}

describe("untrusted input is validated and bounded before it is echoed or logged", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it("answers a malformed app id INVALID_ARGUMENT, not PERMISSION_DENIED, on every transport", async () => {
    for (const [name, transport] of Object.entries(t.transports())) {
      const auth = createClient(AuthService, transport);
      const err = await rejection(auth.listAuthSessions({ appId: "cli_nope" }, withKey(READER_KEY)));
      expect(err.code, name).toBe(Code.InvalidArgument);
      expect(reasonOf(err), name).toBe("INVALID_ARGUMENT");
    }
  });

  it("refuses an unknown enum name or field in Connect JSON instead of dropping it (and the filter)", async () => {
    const post = (body: unknown) =>
      fetch(`${t.httpUrl}/lark.auth.v1.AuthService/ListAuthSessions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_KEY}` },
        body: JSON.stringify(body),
      });
    for (const body of [
      { app_id: TEST_APP_ID, states: ["NOPE"] },
      { app_id: TEST_APP_ID, no_such_field: 1 },
    ]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    }
    expect((await post({ app_id: TEST_APP_ID, states: ["AUTH_SESSION_STATE_PENDING"] })).status).toBe(200);
  });

  it("answers a 40 KB app id INVALID_ARGUMENT to a plain grpc-js client, whose channel keeps working", async () => {
    const client = plainAuthClient(t.app.grpcPort);
    try {
      const call = (req: object) =>
        new Promise<{ err: grpc.ServiceError | null; res?: unknown }>((resolve) =>
          client.ListAuthSessions(req, bearer(READER_KEY), (err: grpc.ServiceError | null, res: unknown) =>
            resolve({ err, res }),
          ),
        );
      const big = await call({ app_id: `cli_${"a".repeat(40_000)}` });
      expect(big.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(big.err?.details.length).toBeLessThan(200);
      const next = await call({ app_id: TEST_APP_ID });
      expect(next.err).toBeNull();
      expect(next.res).toMatchObject({ sessions: [] });
    } finally {
      client.close();
    }
  });

  it("keeps the log small when unauthenticated calls carry a 1,000,000-character session id", async () => {
    const auth = createClient(AuthService, t.transports().grpc);
    const before = t.logs.lines.length;
    const bytesBefore = t.logs.lines.reduce((n, l) => n + l.length, 0);
    const huge = "s".repeat(1_000_000);
    // One after another: 50 concurrent megabyte streams on one connection trip HTTP/2's own limits.
    for (let i = 0; i < 50; i++) {
      const err = await rejection(auth.getAuthSession({ sessionId: huge }));
      expect(err.code, err.rawMessage).toBe(Code.Unauthenticated);
    }
    // The same with a valid key: validation refuses it, and the rejection is logged bounded too.
    const valid = await rejection(auth.getAuthSession({ sessionId: huge }, withKey(ADMIN_KEY)));
    expect(valid.code).toBe(Code.InvalidArgument);
    expect(valid.rawMessage.length).toBeLessThan(200);
    expect(t.logs.lines.length).toBeGreaterThanOrEqual(before + 51);
    const written = t.logs.lines.reduce((n, l) => n + l.length, 0) - bytesBefore;
    expect(written).toBeLessThan(51 * 4096);
  });

  it("calls a header with a non-ASCII space malformed on Connect and gRPC-Web, echoing none of the key", async () => {
    const opts = { headers: { authorization: `Bearer\u00a0${ADMIN_KEY}` } };
    const { connect, grpcWeb } = t.transports();
    for (const [name, transport] of Object.entries({ connect, grpcWeb })) {
      const err = await rejection(
        createClient(AuthService, transport).getAuthSession({ sessionId: SOME_UUID }, opts),
      );
      expect(err.code, name).toBe(Code.Unauthenticated);
      expect(err.rawMessage, name).toMatch(/^malformed authorization header/);
      expect(JSON.stringify(err.metadata) + err.rawMessage, name).not.toContain("admin_key");
    }
    for (const header of [
      "Bearer",
      "Bearer ",
      "bearer\t",
      `Bearer ${ADMIN_KEY} extra`,
      `Bearer  ${ADMIN_KEY}\u00a0`,
    ]) {
      const err = await rejection(
        createClient(AuthService, connect).getAuthSession(
          { sessionId: SOME_UUID },
          { headers: { authorization: header } },
        ),
      );
      expect(err.rawMessage, JSON.stringify(header)).toMatch(/^malformed authorization header/);
    }
    // Surrounding spaces and tabs and a lower-case scheme are fine (RFC 9110 optional whitespace).
    const ok = await createClient(AuthService, connect).listAuthSessions(
      { appId: TEST_APP_ID },
      { headers: { authorization: ` bearer \t${ADMIN_KEY}\t` } },
    );
    expect(ok.sessions).toBeDefined();
  });
});

describe("page tokens are signed and bound to the query", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    const store = createSessionStore(t.db);
    for (let i = 0; i < 3; i++) await store.insert(buildSession({ appId: TEST_APP_ID }));
  });
  afterAll(async () => t?.close());

  it("refuses a token naming year 10000 with INVALID_ARGUMENT, before any SQL and without an error log", async () => {
    const forged = Buffer.from(
      JSON.stringify({ t: "+010000-01-01T00:00:00.000Z", i: "ffffffff-ffff-4fff-bfff-ffffffffffff" }),
    ).toString("base64url");
    const err = await rejection(t.clients().auth.listAuthSessions({ appId: TEST_APP_ID, pageToken: forged }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("page_token");
    expect(t.logs.records().filter((r) => r.level === "error")).toEqual([]);
  });

  it("refuses a token used with other filters, or altered, and honours it as issued", async () => {
    const { auth } = t.clients();
    const first = await auth.listAuthSessions({ appId: TEST_APP_ID, pageSize: 1 });
    const token = first.nextPageToken;
    expect(token).not.toBe("");
    const pending = [AuthSessionState.PENDING];
    const other = await rejection(
      auth.listAuthSessions({ appId: TEST_APP_ID, pageSize: 1, pageToken: token, states: pending }),
    );
    expect(other.code).toBe(Code.InvalidArgument);
    const flipped = `${token.slice(0, 10)}${token[10] === "A" ? "B" : "A"}${token.slice(11)}`;
    const altered = await rejection(auth.listAuthSessions({ appId: TEST_APP_ID, pageToken: flipped }));
    expect(altered.code).toBe(Code.InvalidArgument);
    const second = await auth.listAuthSessions({ appId: TEST_APP_ID, pageSize: 1, pageToken: token });
    expect(second.sessions).toHaveLength(1);
    expect(second.sessions[0]?.sessionId).not.toBe(first.sessions[0]?.sessionId);
  });
});
