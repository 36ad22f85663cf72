import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/telemetry/metrics.js";

describe("RPC metrics", () => {
  it("exposes a valid cumulative Prometheus histogram per method, status code and reason", async () => {
    const { registry, rpc } = createMetrics();
    rpc.observe("GetAuthSession", 0, "OK", 0.0005);
    rpc.observe("GetAuthSession", 0, "OK", 0.003);
    rpc.observe("GetAuthSession", 0, "OK", 42);
    rpc.observe("GetAuthSession", 5, "SESSION_NOT_FOUND", 0.02);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE lark_auth_rpc_duration_seconds histogram");
    const line = (le: string, code = "OK", reason = "OK") =>
      new RegExp(
        `lark_auth_rpc_duration_seconds_bucket\\{method="GetAuthSession",code="${code}",reason="${reason}",le="${le.replace("+", "\\+")}"\\} (\\d+)`,
      ).exec(text)?.[1];
    expect(line("0.001")).toBe("1");
    expect(line("0.0025")).toBe("1");
    expect(line("0.005")).toBe("2");
    expect(line("10")).toBe("2");
    expect(line("+Inf")).toBe("3");
    expect(line("0.025", "NOT_FOUND", "SESSION_NOT_FOUND")).toBe("1");
    expect(text).toMatch(
      /lark_auth_rpc_duration_seconds_count\{method="GetAuthSession",code="OK",reason="OK"\} 3/,
    );
    expect(text).toMatch(
      /lark_auth_rpc_duration_seconds_sum\{method="GetAuthSession",code="OK",reason="OK"\} 42\.0035/,
    );
    expect(text).toContain("lark_auth_process_cpu_seconds_total");
  });
});
