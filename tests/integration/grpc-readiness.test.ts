import { afterEach, describe, expect, it } from "vitest";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { healthClient } from "../support/grpc-health.js";
import { startRpcServers } from "../support/rpc-servers.js";

const cleanups: (() => unknown)[] = [];

/** Polls an asynchronous health check until it reports `want`. */
async function reaches(check: () => Promise<string>, want: string, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await check()) !== want) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("gRPC health as Kubernetes' native probes read it", () => {
  it("keeps the overall status (liveness) SERVING while each service's status follows readiness", async () => {
    const s = await startRpcServers({ handlers: [] });
    cleanups.push(() => s.close());
    const health = healthClient(`127.0.0.1:${s.grpcPort}`);
    cleanups.push(() => health.close());
    let ready = true;
    s.grpc.followReadiness(async () => ready, 20);
    expect(await health.check(AuthService.typeName)).toBe("SERVING");

    ready = false; // e.g. the database stopped answering
    await reaches(() => health.check(AuthService.typeName), "NOT_SERVING", "not ready");
    expect(await health.check("")).toBe("SERVING"); // alive: no restart for a database outage

    ready = true;
    await reaches(() => health.check(AuthService.typeName), "SERVING", "ready again");
  });

  it("treats a failing readiness check as not ready, and stops following at shutdown", async () => {
    const s = await startRpcServers({ handlers: [] });
    const health = healthClient(`127.0.0.1:${s.grpcPort}`);
    cleanups.push(() => health.close());
    s.grpc.followReadiness(() => Promise.reject(new Error("database unreachable")), 20);
    await reaches(() => health.check(AuthService.typeName), "NOT_SERVING", "not ready");
    const statuses: string[] = [];
    const watch = health.watch(AuthService.typeName, statuses as never);
    cleanups.push(() => watch.cancel());
    await s.close();
    // No readiness check may flip a stopped server back to SERVING.
    await new Promise((r) => setTimeout(r, 100));
    expect(statuses).not.toContain("SERVING");
  });
});
