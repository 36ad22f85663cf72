// Trace export over OTLP/HTTP to a local receiver: on only when an endpoint is configured (the
// standard OTEL_* variables), the service name honoured, queued spans flushed at shutdown.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/index.js";
import { startOtlpTracing } from "../../src/telemetry/tracing-sdk.js";
import { startTestApp, TEST_ENV } from "../support/test-app.js";

describe("OTEL_* variables decide whether traces are exported", () => {
  it("exports only with an endpoint, and never with OTEL_TRACES_EXPORTER=none", () => {
    const endpoint = "http://127.0.0.1:4318";
    expect(parseConfig({ ...TEST_ENV }).tracing).toEqual({ otlp: false, serviceName: "lark-auth-service" });
    expect(parseConfig({ ...TEST_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing?.otlp).toBe(true);
    expect(
      parseConfig({ ...TEST_ENV, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` }).tracing?.otlp,
    ).toBe(true);
    expect(
      parseConfig({ ...TEST_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: "none" })
        .tracing?.otlp,
    ).toBe(false);
    expect(parseConfig({ ...TEST_ENV, OTEL_SERVICE_NAME: "auth-eu" }).tracing?.serviceName).toBe("auth-eu");
  });
});

describe("OTLP/HTTP export", () => {
  let receiver: Server;
  const received: { path: string; body: string }[] = [];
  beforeAll(async () => {
    receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      received.push({ path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it("sends the RPC spans of a running service, named by OTEL_SERVICE_NAME, when it shuts down", async () => {
    const { port } = receiver.address() as AddressInfo;
    // The exporter reads its endpoint and protocol from the environment, as in production.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/json";
    const tracing = startOtlpTracing("lark-auth-otlp-test");
    const t = await startTestApp();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await fetch(`${t.httpUrl}/lark.auth.v1.AuthService/GetAuthSession`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer lak_not_a_configured_key_0123456789",
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ session_id: "00000000-0000-4000-8000-000000000000" }),
    });
    expect(res.status).toBe(401);
    await t.close();
    await tracing.shutdown();
    const traces = received.filter((r) => r.path === "/v1/traces").map((r) => r.body);
    expect(traces.length).toBeGreaterThan(0);
    const all = traces.join("\n");
    expect(all).toContain("lark-auth-otlp-test");
    expect(all).toContain("lark.auth.v1.AuthService/GetAuthSession");
    expect(all).toContain(traceId);
    expect(all).not.toContain("lak_not_a_configured_key");
  });
});
