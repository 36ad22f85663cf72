import { randomUUID } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { TokenService } from "../../gen/lark/auth/v1/token_service_pb.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { GRPC_CODE_NAMES } from "../../src/telemetry/metrics.js";
import { buildSession, openId } from "../support/factories.js";
import { exported } from "../support/spans.js";
import { ADMIN_KEY, startTestApp, TEST_APP_ID, type TestApp, withKey } from "../support/test-app.js";

/** The app secret startTestApp configures (tests/support/test-app.ts). */
const APP_SECRET = "test-app-secret-value";
const BOGUS_KEY = "lak_bogus_telemetry_probe_key_0123456789";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

async function code(p: Promise<unknown>): Promise<Code | "OK"> {
  try {
    await p;
    return "OK";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

/** Every request field value sent below: none may reach a span or a metric label. */
const sessionId = randomUUID();
const missingId = randomUUID();
const filterUser = openId();
const badAppId = "cli_NOT_A_VALID_APP_ID_probe";

describe("telemetry: one span per RPC, expected outcomes are not errors, no secrets anywhere", () => {
  let t: TestApp;
  beforeAll(async () => {
    // Before the app starts: the service's tracer must pick up whatever SDK the host registered.
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    t = await startTestApp();
    await createSessionStore(t.db).insert(
      buildSession({ id: sessionId, appId: TEST_APP_ID, user: { kind: "open_id", value: filterUser } }),
    );
    exporter.reset();
  });
  afterAll(async () => {
    await t?.close();
    await provider.shutdown();
    trace.disable();
  });

  /** Runs `call` and returns the one RPC span it produced. */
  async function spanOf(call: () => Promise<unknown>, expected: Code | "OK"): Promise<ReadableSpan> {
    exporter.reset();
    expect(await code(call())).toBe(expected);
    const spans = exporter.getFinishedSpans().filter((s) => s.name.startsWith("lark.auth.v1."));
    expect(spans).toHaveLength(1);
    return spans[0] as ReadableSpan;
  }

  it("records each RPC as one span with its method and outcome, over gRPC and Connect", async () => {
    const grpc = t.clients();
    const connect = createClient(AuthService, t.transports().connect);
    const bogus = createClient(TokenService, t.transports().grpc);
    const cases = [
      {
        call: () => grpc.auth.getAuthSession({ sessionId }),
        code: "OK" as const,
        method: "GetAuthSession",
        outcome: "OK",
      },
      {
        call: () =>
          connect.listAuthSessions(
            { appId: TEST_APP_ID, user: { id: { case: "openId", value: filterUser } } },
            withKey(ADMIN_KEY),
          ),
        code: "OK" as const,
        method: "ListAuthSessions",
        outcome: "OK",
      },
      {
        call: () => grpc.auth.getAuthSession({ sessionId: missingId }),
        code: Code.NotFound,
        method: "GetAuthSession",
        outcome: "SESSION_NOT_FOUND",
      },
      {
        call: () => connect.getAuthSession({ sessionId: missingId }, withKey(ADMIN_KEY)),
        code: Code.NotFound,
        method: "GetAuthSession",
        outcome: "SESSION_NOT_FOUND",
      },
      {
        call: () => bogus.getTenantAccessToken({ appId: TEST_APP_ID }, withKey(BOGUS_KEY)),
        code: Code.Unauthenticated,
        method: "GetTenantAccessToken",
        outcome: "UNAUTHENTICATED",
      },
      {
        call: () => grpc.auth.listAuthSessions({ appId: badAppId }),
        code: Code.InvalidArgument,
        method: "ListAuthSessions",
        outcome: "INVALID_ARGUMENT",
      },
    ];
    for (const c of cases) {
      const span = await spanOf(c.call, c.code);
      const service = c.method === "GetTenantAccessToken" ? TokenService : AuthService;
      expect(span.name).toBe(`${service.typeName}/${c.method}`);
      expect(span.attributes["rpc.method"]).toBe(c.method);
      expect(span.attributes["rpc.service"]).toBe(service.typeName);
      expect(span.attributes["lark_auth.outcome"]).toBe(c.outcome);
      // Not found, unauthenticated and invalid are answers to the caller, not faults of the service.
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(span.ended).toBe(true);
    }
  });

  it("puts no caller key, app secret or request field value in any span", async () => {
    exporter.reset();
    await code(t.clients().auth.getAuthSession({ sessionId }));
    await code(t.clients(BOGUS_KEY).auth.getAuthSession({ sessionId: missingId }));
    await code(
      t.clients().auth.listAuthSessions({
        appId: TEST_APP_ID,
        user: { id: { case: "openId", value: filterUser } },
        pageToken: "page-token-probe-value",
      }),
    );
    await code(t.clients().auth.listAuthSessions({ appId: badAppId }));
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThanOrEqual(4);
    const secrets = [ADMIN_KEY, BOGUS_KEY, APP_SECRET];
    const fieldValues = [sessionId, missingId, filterUser, badAppId, TEST_APP_ID, "page-token-probe-value"];
    for (const span of spans) {
      const text = exported(span);
      for (const s of [...secrets, ...fieldValues]) expect(text, span.name).not.toContain(s);
    }
  });

  it("exposes lark_auth_rpc_duration_seconds labelled by method, status code and reason only", async () => {
    await code(t.clients(BOGUS_KEY).auth.getAuthSession({ sessionId: missingId }));
    await code(t.clients().auth.getAuthSession({ sessionId: missingId }));
    const res = await fetch(`${t.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const samples = text.split("\n").filter((l) => l.startsWith("lark_auth_rpc_duration_seconds"));
    expect(samples.length).toBeGreaterThan(0);
    const methods = new Set([...AuthService.methods, ...TokenService.methods].map((m) => m.name));
    const seen = new Set<string>();
    for (const line of samples) {
      const labels = /\{([^}]*)\}/.exec(line)?.[1] ?? "";
      const pairs = [...labels.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as const);
      const names = pairs.map(([k]) => k).filter((k) => k !== "le");
      expect(names.sort(), line).toEqual(["code", "method", "reason"]);
      const label = (name: string) => pairs.find(([k]) => k === name)?.[1] ?? "";
      expect(methods.has(label("method")), line).toBe(true);
      expect(GRPC_CODE_NAMES, line).toContain(label("code"));
      expect(label("reason"), line).toMatch(/^[A-Z_]+$/);
      seen.add(`${label("method")}/${label("code")}/${label("reason")}`);
    }
    expect(seen).toContain("GetAuthSession/UNAUTHENTICATED/UNAUTHENTICATED");
    expect(seen).toContain("GetAuthSession/NOT_FOUND/SESSION_NOT_FOUND");
    expect(seen).toContain("GetAuthSession/OK/OK");
    for (const s of [ADMIN_KEY, BOGUS_KEY, APP_SECRET, sessionId, missingId, filterUser, badAppId]) {
      expect(text).not.toContain(s);
    }
  });

  it("keeps the keys and the app secret out of the log lines as well", () => {
    const text = t.logs.lines.join("\n");
    for (const s of [ADMIN_KEY, BOGUS_KEY, APP_SECRET]) expect(text).not.toContain(s);
  });
});
