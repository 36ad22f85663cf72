import { Counter, Gauge, type Registry } from "prom-client";

/** Label values, restated here so telemetry/ stays a leaf: lark/ owns their meaning. */
const STATES = ["connecting", "connected", "reconnecting", "failed", "webhook"] as const;
const SOURCES = ["long_connection", "webhook"] as const;
const OUTCOMES = ["handled", "duplicate", "busy", "failed", "rejected", "ignored"] as const;

/**
 * Inbound Lark metrics: each configured app's delivery state (one series per state, 1 for the current
 * one, as the dashboard's `max by (app_id, state) (...) > 0` reads it), its long connection's drops,
 * and what became of each delivery. Every series exists from start, at zero, for every app.
 */
export interface LarkEventMetrics {
  connectionState(appId: string, state: string): void;
  reconnect(appId: string): void;
  received(appId: string, source: string, outcome: string): void;
  register(registry: Registry): void;
}

export function createLarkEventMetrics(appIds: readonly string[]): LarkEventMetrics {
  const state = new Gauge({
    name: "lark_auth_lark_connection_state",
    help: "Per app, 1 for its current event delivery state (connecting, connected, reconnecting, failed, webhook), 0 for the others.",
    labelNames: ["app_id", "state"] as const,
    registers: [],
  });
  const reconnects = new Counter({
    name: "lark_auth_lark_connection_reconnects_total",
    help: "Times an app's Lark long connection went down and was redialled.",
    labelNames: ["app_id"] as const,
    registers: [],
  });
  const received = new Counter({
    name: "lark_auth_lark_events_received_total",
    help: "Lark events and card callbacks received, by app, source (long_connection, webhook) and outcome (handled, duplicate, busy, failed, rejected, ignored).",
    labelNames: ["app_id", "source", "outcome"] as const,
    registers: [],
  });
  for (const app_id of appIds) {
    for (const s of STATES) state.set({ app_id, state: s }, 0);
    reconnects.inc({ app_id }, 0);
    for (const source of SOURCES)
      for (const outcome of OUTCOMES) received.inc({ app_id, source, outcome }, 0);
  }
  return {
    connectionState(app_id, current) {
      for (const s of STATES) state.set({ app_id, state: s }, s === current ? 1 : 0);
    },
    reconnect: (app_id) => reconnects.inc({ app_id }),
    received: (app_id, source, outcome) => received.inc({ app_id, source, outcome }),
    register(registry) {
      for (const metric of [state, reconnects, received]) registry.registerMetric(metric);
    },
  };
}
