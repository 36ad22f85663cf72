import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** RPC metrics; labels are method names and stable reasons only, never user data. */
export interface RpcMetrics {
  observe(method: string, reason: string, seconds: number): void;
}

/** A registry per app instance (no global default registry), with process metrics. */
export function createMetrics(): { registry: Registry; rpc: RpcMetrics } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "lark_auth_" });
  const duration = new Histogram({
    name: "lark_auth_rpc_duration_seconds",
    help: "RPC handling time by method and outcome reason (OK or the ErrorInfo reason).",
    labelNames: ["method", "reason"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // Bound children are cached: label lookup per observation is a hot-path cost. The key space
  // is small and closed (methods x reasons), so the cache cannot grow without bound.
  const bound = new Map<string, ReturnType<typeof duration.labels>>();
  return {
    registry,
    rpc: {
      observe(method, reason, seconds) {
        const key = `${method}\u0000${reason}`;
        let child = bound.get(key);
        if (!child) {
          child = duration.labels(method, reason);
          bound.set(key, child);
        }
        child.observe(seconds);
      },
    },
  };
}
