import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** How a watcher is connected: any RPC transport (gRPC, Connect, gRPC-Web), or the events WebSocket. */
export type WatchTransport = "grpc" | "websocket";

/**
 * Event-stream metrics. Labels are the transport and a stable reason (the ErrorInfo reason a
 * watch ended with, or OK), never request data. Observing stays off the per-watcher hot path: the
 * gauge and the counter move once per watcher, the lag histogram once per event per read of the log.
 */
export interface EventMetrics {
  /** Counts a watcher as open; the returned function counts it ended with `reason` (call it once). */
  watcherOpened(transport: WatchTransport): (reason: string) => void;
  /** Seconds from an event's occur time to its hand-off to every live watcher. */
  deliveryLag(seconds: number): void;
}

/** Lag buckets around the 200 ms goal for 10,000 watchers (bench/watchers.ts). */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30];

export function createEventMetrics(registry: Registry): EventMetrics {
  const watchers = new Gauge({
    name: "lark_auth_event_watchers",
    help: "Open WatchAuthEvents watchers on this replica, by transport (grpc: gRPC, Connect, gRPC-Web; websocket).",
    labelNames: ["transport"] as const,
    registers: [registry],
  });
  const ended = new Counter({
    name: "lark_auth_event_watchers_ended_total",
    help: "Watchers ended, by transport and reason (the ErrorInfo reason, e.g. CANCELLED, WATCHER_TOO_SLOW, CURSOR_EXPIRED, SHUTTING_DOWN; OK when the stream was closed without one).",
    labelNames: ["transport", "reason"] as const,
    registers: [registry],
  });
  const lag = new Histogram({
    name: "lark_auth_event_delivery_lag_seconds",
    help: "Seconds from an event's occur_time (set in the transaction that commits it) to its hand-off to every live watcher of this replica, once per event; includes the transaction's own duration.",
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  // Both series exist from the start, so a dashboard shows 0 rather than no data.
  watchers.set({ transport: "grpc" }, 0);
  watchers.set({ transport: "websocket" }, 0);
  return {
    watcherOpened(transport) {
      watchers.inc({ transport });
      let done = false;
      return (reason) => {
        if (done) return;
        done = true;
        watchers.dec({ transport });
        ended.inc({ transport, reason });
      };
    },
    deliveryLag: (seconds) => lag.observe(Math.max(0, seconds)),
  };
}
