import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/telemetry/metrics.js";

describe("RPC metrics", () => {
  it("exposes a valid cumulative Prometheus histogram per method and reason", async () => {
    const { registry, rpc } = createMetrics();
    rpc.observe("GetAuthSession", "OK", 0.0005);
    rpc.observe("GetAuthSession", "OK", 0.003);
    rpc.observe("GetAuthSession", "OK", 42);
    rpc.observe("GetAuthSession", "SESSION_NOT_FOUND", 0.02);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE lark_auth_rpc_duration_seconds histogram");
    const line = (le: string, reason = "OK") =>
      new RegExp(
        `lark_auth_rpc_duration_seconds_bucket\\{method="GetAuthSession",reason="${reason}",le="${le.replace("+", "\\+")}"\\} (\\d+)`,
      ).exec(text)?.[1];
    expect(line("0.001")).toBe("1");
    expect(line("0.0025")).toBe("1");
    expect(line("0.005")).toBe("2");
    expect(line("10")).toBe("2");
    expect(line("+Inf")).toBe("3");
    expect(line("0.025", "SESSION_NOT_FOUND")).toBe("1");
    expect(text).toMatch(/lark_auth_rpc_duration_seconds_count\{method="GetAuthSession",reason="OK"\} 3/);
    expect(text).toMatch(
      /lark_auth_rpc_duration_seconds_sum\{method="GetAuthSession",reason="OK"\} 42\.0035/,
    );
    expect(text).toContain("lark_auth_process_cpu_seconds_total");
  });
});
