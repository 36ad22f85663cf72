// Observability of whole authorizations: the spans and their parent/child links and session links
// (both OAuth flows, token reads and refreshes, failures), /metrics moving with the flow, and a scan
// of every log line, span and metric this file's service instances produce for planted canaries and
// for every secret the service and the emulator exchanged.
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { TokenService } from "../../gen/lark/auth/v1/token_service_pb.js";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import { hashCallerKey } from "../../src/crypto/caller-keys.js";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { registerTracing, type TracingSdk } from "../../src/telemetry/tracing-sdk.js";
import { startTestEmulator } from "../conformance/emulator-support.js";
import {
  authorizeButtonUrl,
  byOpenId,
  callback,
  cardFor,
  consentUrl,
  decide,
  type FlowEnv,
  newUser,
  sessionIn,
  startFlowEnv,
  waitFor,
} from "../support/auth-flow.js";
import { type RecordingProxy, startRecordingProxy } from "../support/recording-proxy.js";
import { exported } from "../support/spans.js";
import { ADMIN_KEY, TEST_APP_ID, type TestApp } from "../support/test-app.js";

/** Planted secrets: recognisable, and long enough that a prefix match means a leak. */
const CANARY = {
  appSecret: "CANARYappSecret7f3a9c2e51d0",
  callerKey: "lak_CANARYcallerKey4e8b1d6a90c2f7",
  encryptionKey: "CANARY-encryption-key-32-bytes!!",
} as const;
const ENV = {
  LARK_APP_SECRET: CANARY.appSecret,
  // The admin key stays for the test helpers that poll sessions.
  LARK_AUTH_CALLER_KEYS: `admin=${hashCallerKey(ADMIN_KEY)},canary=${hashCallerKey(CANARY.callerKey)}`,
  LARK_AUTH_ENCRYPTION_KEYS: `canary=${Buffer.from(CANARY.encryptionKey).toString("base64")}`,
};
const SCOPES = ["contact:user.base:readonly"];
const requestFor = (openId: string) => ({ appId: TEST_APP_ID, user: byOpenId(openId), scopes: SCOPES });

const exporter = new InMemorySpanExporter();
let sdk: TracingSdk;
let emulator: RunningEmulator;
let proxy: RecordingProxy;
/** Secrets the test itself saw (codes and states in redirects, tokens in answers). */
const seen = new Set<string>();
/** Everything to scan: filled by each part before its instance closes. */
const produced: string[] = [];

/** A caller of its own trace: W3C traceparent on every request, the canary key as its credential. */
function tracedCaller(traceId: string, parentId: string) {
  const interceptors: Interceptor[] = [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${CANARY.callerKey}`);
      req.header.set("traceparent", `00-${traceId}-${parentId}-01`);
      return next(req);
    },
  ];
  return (t: TestApp, over: "grpc" | "connect" = "grpc") => {
    const transport: Transport =
      over === "grpc"
        ? createGrpcTransport({ baseUrl: t.grpcUrl, interceptors })
        : createConnectTransport({ baseUrl: t.httpUrl, httpVersion: "1.1", interceptors });
    return { auth: createClient(AuthService, transport), token: createClient(TokenService, transport) };
  };
}

const hex = (n: number) =>
  [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The value of one sample in a Prometheus text exposition, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(" ") + 1)) : 0;
}

async function scrape(t: TestApp): Promise<string> {
  const res = await fetch(`${t.httpUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function spansOfTrace(traceId: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

function childrenOf(span: ReadableSpan): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId);
}

beforeAll(async () => {
  sdk = registerTracing({ serviceName: "lark-auth-test", processors: [new SimpleSpanProcessor(exporter)] });
  emulator = await startTestEmulator();
  emulator.registerApp({ app_id: TEST_APP_ID, app_secret: CANARY.appSecret, name: "Telemetry Test" });
  proxy = await startRecordingProxy(emulator.url);
});
afterAll(async () => {
  await proxy?.close();
  await emulator?.close();
  await sdk?.shutdown();
});

describe("a redirect authorization, traced and counted", () => {
  let env: FlowEnv;
  beforeAll(async () => {
    env = await startFlowEnv("redirect", { emulator, env: { ...ENV, LARK_DOMAIN: proxy.url } });
  });
  afterAll(async () => {
    if (env) produced.push(...env.t.logs.lines, await scrape(env.t));
    await env?.close();
  });

  it("continues the caller's trace, links the callback to the session's start, and moves the metrics", async () => {
    const t = env.t;
    const before = await scrape(t);
    const traceId = hex(16);
    const callerSpan = hex(8);
    const caller = tracedCaller(traceId, callerSpan);
    const user = newUser(emulator);
    const { session } = await caller(t).auth.startAuthorization(requestFor(user.open_id));
    const id = session?.sessionId ?? "";

    // The server span of StartAuthorization continues the caller's trace, with database work under it.
    const start = spansOfTrace(traceId).find((s) => s.name === "lark.auth.v1.AuthService/StartAuthorization");
    if (!start) throw new Error("no StartAuthorization span in the caller's trace");
    expect(start.kind).toBe(SpanKind.SERVER);
    expect(start.parentSpanContext?.spanId).toBe(callerSpan);
    expect(start.attributes).toMatchObject({
      "rpc.system": "grpc",
      "rpc.service": "lark.auth.v1.AuthService",
      "rpc.method": "StartAuthorization",
      "rpc.grpc.status_code": 0,
      "lark_auth.session_id": id,
    });
    const db = childrenOf(start).filter((s) => s.name.startsWith("db "));
    expect(db.length).toBeGreaterThan(0);
    for (const s of db) {
      expect(s.kind).toBe(SpanKind.CLIENT);
      expect(s.attributes["db.system"]).toBe("postgresql");
      expect(Object.keys(s.attributes).sort()).toEqual(["db.operation.name", "db.system"]);
    }

    // The user consents: the callback is a trace of its own, naming the session and linking its start.
    const card = await cardFor(emulator, user.open_id, id);
    const redirect = decide(
      emulator,
      await consentUrl(authorizeButtonUrl(card.card)),
      user.open_id,
      "approve",
    );
    for (const [k, v] of new URL(redirect).searchParams) if (k === "code" || k === "state") seen.add(v);
    const page = await callback(redirect);
    expect(page.status, page.html).toBe(200);
    await sessionIn(t, id, S.AUTHORIZED);
    const completion = await waitFor(
      () => exporter.getFinishedSpans().find((s) => s.name === "GET /oauth/callback"),
      "the callback's span",
    );
    expect(completion.kind).toBe(SpanKind.SERVER);
    expect(completion.attributes).toMatchObject({
      "http.route": "/oauth/callback",
      "lark_auth.session_id": id,
    });
    expect(completion.links.map((l) => l.context.spanId)).toContain(start.spanContext().spanId);
    expect(childrenOf(completion).some((s) => s.name === "db auth transaction")).toBe(true);

    // Token reads: the first from the database, the next from the cache; a refresh; a failed refresh.
    const read = await caller(t).token.getUserAccessToken({
      appId: TEST_APP_ID,
      user: byOpenId(user.open_id),
    });
    await caller(t).token.getUserAccessToken({ appId: TEST_APP_ID, user: byOpenId(user.open_id) });
    const fresh = await caller(t).token.refreshUserAccessToken({
      appId: TEST_APP_ID,
      user: byOpenId(user.open_id),
    });
    for (const token of [read.token?.accessToken, fresh.token?.accessToken]) if (token) seen.add(token);
    emulator.revokeGrant(user.open_id, TEST_APP_ID);
    await expect(
      caller(t).token.refreshUserAccessToken({ appId: TEST_APP_ID, user: byOpenId(user.open_id) }),
    ).rejects.toThrow();

    // The same trace continues over Connect on the HTTP port.
    await caller(t, "connect").auth.getAuthSession({ sessionId: id });
    const overHttp = spansOfTrace(traceId).find((s) => s.name === "lark.auth.v1.AuthService/GetAuthSession");
    expect(overHttp?.parentSpanContext?.spanId).toBe(callerSpan);

    // Log lines written inside a call carry its trace id.
    const traced = t.logs.records().filter((r) => r.trace_id === traceId);
    expect(traced.length).toBeGreaterThan(0);

    const after = await scrape(t);
    const app = { app_id: TEST_APP_ID };
    const moved = (name: string, labels: Record<string, string>) =>
      sample(after, name, { ...app, ...labels }) - sample(before, name, { ...app, ...labels });
    expect(moved("lark_auth_sessions_created_total", { flow: "redirect" })).toBe(1);
    expect(moved("lark_auth_sessions_finished_total", { state: "AUTHORIZED", reason: "none" })).toBe(1);
    expect(moved("lark_auth_session_completion_seconds_count", { flow: "redirect" })).toBe(1);
    expect(moved("lark_auth_token_reads_total", { source: "database" })).toBeGreaterThanOrEqual(1);
    expect(moved("lark_auth_token_reads_total", { source: "cache" })).toBeGreaterThanOrEqual(1);
    expect(moved("lark_auth_token_refreshes_total", { trigger: "caller", outcome: "ok" })).toBe(1);
    expect(moved("lark_auth_token_refreshes_total", { trigger: "caller", outcome: "reauth" })).toBe(1);
    expect(sample(after, "lark_auth_grants", { ...app, status: "REAUTH_REQUIRED" })).toBe(1);
    expect(after).toMatch(new RegExp(`lark_auth_sessions_active\\{app_id="${TEST_APP_ID}"\\} 0`));
    expect(
      sample(after, "lark_auth_rpc_duration_seconds_count", { method: "StartAuthorization", reason: "OK" }) -
        sample(before, "lark_auth_rpc_duration_seconds_count", {
          method: "StartAuthorization",
          reason: "OK",
        }),
    ).toBe(1);
  });

  it("counts a pending session as active, and its cancellation as finished", async () => {
    const t = env.t;
    const user = newUser(emulator);
    const caller = tracedCaller(hex(16), hex(8));
    const { session } = await caller(t).auth.startAuthorization(requestFor(user.open_id));
    const active = await scrape(t);
    expect(sample(active, "lark_auth_sessions_active", { app_id: TEST_APP_ID })).toBe(1);
    await caller(t).auth.cancelAuthSession({ sessionId: session?.sessionId ?? "" });
    const after = await scrape(t);
    expect(sample(after, "lark_auth_sessions_active", { app_id: TEST_APP_ID })).toBe(0);
    expect(
      sample(after, "lark_auth_sessions_finished_total", {
        app_id: TEST_APP_ID,
        state: "CANCELLED",
        reason: "CANCELLED_BY_CALLER",
      }),
    ).toBe(1);
  });
});

describe("a device authorization and a declined card, traced and counted", () => {
  let env: FlowEnv;
  beforeAll(async () => {
    env = await startFlowEnv("device", { emulator, env: { ...ENV, LARK_DOMAIN: proxy.url } });
    emulator.configure({ device_poll_interval: 1 });
  });
  afterAll(async () => {
    if (env) produced.push(...env.t.logs.lines, await scrape(env.t));
    await env?.close();
  });

  it("finishes by the poller, and a Decline click is a span naming its session", async () => {
    const t = env.t;
    const caller = tracedCaller(hex(16), hex(8));
    const user = newUser(emulator);
    const { session } = await caller(t).auth.startAuthorization(requestFor(user.open_id));
    const id = session?.sessionId ?? "";
    const card = await cardFor(emulator, user.open_id, id);
    const verify = authorizeButtonUrl(card.card);
    seen.add(new URL(verify).searchParams.get("user_code") ?? "");
    emulator.decide({ url: verify, open_id: user.open_id, decision: "approve" });
    await sessionIn(t, id, S.AUTHORIZED);
    const read = await caller(t).token.getUserAccessToken({
      appId: TEST_APP_ID,
      user: byOpenId(user.open_id),
    });
    if (read.token?.accessToken) seen.add(read.token.accessToken);

    const other = newUser(emulator);
    const declined = await caller(t).auth.startAuthorization(requestFor(other.open_id));
    const declinedId = declined.session?.sessionId ?? "";
    const otherCard = await cardFor(emulator, other.open_id, declinedId);
    const click = await emulator.clickCard(otherCard.message_id, {
      operator_open_id: other.open_id,
      value: { action: "decline", session_id: declinedId },
    });
    expect(click.ok).toBe(true);
    const action = await waitFor(
      () =>
        exporter
          .getFinishedSpans()
          .find(
            (s) =>
              s.name === "lark card.action.trigger" && s.attributes["lark_auth.session_id"] === declinedId,
          ),
      "the card action's span",
    );
    expect(action.kind).toBe(SpanKind.SERVER);
    const declinedStart = exporter
      .getFinishedSpans()
      .find(
        (s) => s.name.endsWith("/StartAuthorization") && s.attributes["lark_auth.session_id"] === declinedId,
      );
    expect(action.links.map((l) => l.context.spanId)).toContain(declinedStart?.spanContext().spanId);

    const metrics = await scrape(t);
    expect(sample(metrics, "lark_auth_sessions_created_total", { app_id: TEST_APP_ID, flow: "device" })).toBe(
      2,
    );
    expect(
      sample(metrics, "lark_auth_session_completion_seconds_count", { app_id: TEST_APP_ID, flow: "device" }),
    ).toBe(1);
    expect(
      sample(metrics, "lark_auth_sessions_finished_total", {
        app_id: TEST_APP_ID,
        state: "DECLINED",
        reason: "none",
      }),
    ).toBe(1);
  });
});

describe("secret egress: every log line, span and metric of the instances above", () => {
  it("holds no canary and no secret the service and Lark exchanged", () => {
    const secrets = new Set([
      ...Object.values(CANARY),
      Buffer.from(CANARY.encryptionKey).toString("base64"),
      ...proxy.secrets,
      ...seen,
    ]);
    secrets.delete("");
    // The exchange must have been seen, or the scan proves nothing: access and refresh tokens, codes.
    expect(proxy.secrets.size).toBeGreaterThanOrEqual(6);
    expect(seen.size).toBeGreaterThanOrEqual(4);
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(20);
    expect(produced.length).toBeGreaterThan(20);
    const haystack = [...produced, ...spans.map(exported)];
    for (const secret of secrets) {
      // A 12-character prefix is enough to call it a leak (reliability plan S8), and so is its URL form.
      const needles = [
        secret.slice(0, Math.max(12, Math.min(secret.length, 16))),
        encodeURIComponent(secret),
      ];
      for (const text of haystack)
        for (const needle of needles) expect(text.includes(needle), needle).toBe(false);
    }
  });
});
