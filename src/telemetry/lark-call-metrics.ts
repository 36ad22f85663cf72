import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * Outbound Lark call metrics. Labels are configured app ids, operation names from a closed set
 * (`im.message.create`, never a raw path) and outcomes from a closed set: no user data, no token.
 */
export interface LarkCallMetrics {
  /** One attempt that went out (or, outcome `circuit_open`, was refused before going out). */
  observe(appId: string, endpoint: string, outcome: string, seconds?: number): void;
  /** The app's circuit state: 0 closed, 1 half-open, 2 open. */
  circuitState(appId: string, value: number): void;
}

/** The metrics plus how the composition root puts them on the service's registry. */
export type RegistrableLarkCallMetrics = LarkCallMetrics & { register(registry: Registry): void };

const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The metrics, unregistered until `register` puts them on the service's registry. */
export function createLarkCallMetrics(): RegistrableLarkCallMetrics {
  const requests = new Counter({
    name: "lark_auth_lark_requests_total",
    help: "Outbound Lark HTTP attempts by app, operation and outcome (ok, lark_error, rate_limited, server_error, timeout, network, circuit_open).",
    labelNames: ["app_id", "endpoint", "outcome"] as const,
    registers: [],
  });
  const duration = new Histogram({
    name: "lark_auth_lark_request_duration_seconds",
    help: "Time of outbound Lark HTTP attempts that went out, by app and operation.",
    labelNames: ["app_id", "endpoint"] as const,
    buckets: BUCKETS,
    registers: [],
  });
  const circuit = new Gauge({
    name: "lark_auth_lark_circuit_state",
    help: "Per-app circuit breaker for Lark calls: 0 closed, 1 half-open (probing), 2 open (failing fast).",
    labelNames: ["app_id"] as const,
    registers: [],
  });
  return {
    observe(appId, endpoint, outcome, seconds) {
      requests.inc({ app_id: appId, endpoint, outcome });
      if (seconds !== undefined) duration.observe({ app_id: appId, endpoint }, seconds);
    },
    circuitState: (appId, value) => circuit.set({ app_id: appId }, value),
    register(registry) {
      for (const metric of [requests, duration, circuit]) registry.registerMetric(metric);
    },
  };
}
