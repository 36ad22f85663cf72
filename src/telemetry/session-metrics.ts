import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Per-app pending session counts, read from the database when Prometheus scrapes. */
export type PendingCounts = () => Promise<ReadonlyMap<string, number>>;

/**
 * Authorization session metrics. Labels are app ids, flows, final states and failure reasons (a
 * closed set in the domain), never a user or session id.
 */
export interface SessionMetrics {
  created(appId: string, flow: string): void;
  /** `seconds` (creation to now) is given for AUTHORIZED sessions: the time a user took to consent. */
  finished(appId: string, flow: string, state: string, reason: string, seconds?: number): void;
}

/**
 * Registers the session metrics on `registry`. `lark_auth_sessions_active` is computed at scrape
 * time from the database, so every replica reports the same, true number (no counter drift across
 * restarts); the query is one grouped count over pending rows.
 */
export function createSessionMetrics(
  registry: Registry,
  opts: {
    readonly appIds: readonly string[];
    readonly pending: PendingCounts;
    readonly onError?: (err: unknown) => void;
  },
): SessionMetrics {
  const created = new Counter({
    name: "lark_auth_sessions_created_total",
    help: "Authorization sessions created, by app and OAuth flow (redirect, device).",
    labelNames: ["app_id", "flow"] as const,
    registers: [registry],
  });
  const finished = new Counter({
    name: "lark_auth_sessions_finished_total",
    help: "Authorization sessions that reached a final state, by app, state and failure reason (none when not failed).",
    labelNames: ["app_id", "state", "reason"] as const,
    registers: [registry],
  });
  const completion = new Histogram({
    name: "lark_auth_session_completion_seconds",
    help: "Time from a session's creation to the user's consent being stored, by app and flow.",
    labelNames: ["app_id", "flow"] as const,
    // A human reads a card, opens a page and clicks: seconds to the session's lifetime (10 min default).
    buckets: [5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  new Gauge({
    name: "lark_auth_sessions_active",
    help: "Authorization sessions pending (waiting for the user), by app; read from the database at scrape time.",
    labelNames: ["app_id"] as const,
    registers: [registry],
    async collect() {
      let counts: ReadonlyMap<string, number>;
      try {
        counts = await opts.pending();
      } catch (err) {
        // A scrape during a database outage still returns every other metric; the gap shows the outage.
        this.reset();
        opts.onError?.(err);
        return;
      }
      for (const appId of new Set([...opts.appIds, ...counts.keys()]))
        this.set({ app_id: appId }, counts.get(appId) ?? 0);
    },
  });
  return {
    created: (appId, flow) => created.inc({ app_id: appId, flow }),
    finished(appId, flow, state, reason, seconds) {
      finished.inc({ app_id: appId, state, reason });
      if (seconds !== undefined) completion.observe({ app_id: appId, flow }, seconds);
    },
  };
}
