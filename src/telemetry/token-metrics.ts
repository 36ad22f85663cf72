import { AsyncLocalStorage } from "node:async_hooks";
import { Counter, Gauge, type Registry } from "prom-client";

/** Grant counts per app and status, read from the database when Prometheus scrapes. */
export type GrantCounts = () => Promise<readonly { appId: string; status: string; count: number }[]>;

/** Who started a refresh: a caller's read or RefreshUserAccessToken, or the background refresher. */
export type RefreshTrigger = "caller" | "background";

/** Token metrics; labels are app ids and closed sets of words, never a user or a token. */
export interface TokenMetrics {
  /** Runs `work` so that refreshes it starts are counted with `trigger`. */
  triggeredBy<T>(trigger: RefreshTrigger, work: () => Promise<T>): Promise<T>;
  /** One upstream refresh and how it ended (ok, or a refresh failure class). */
  refreshed(appId: string, outcome: string): void;
  /** The read counters of one app, resolved once: a read increments a field, nothing more. */
  reads(appId: string): ReadCounts;
}

/** Token reads of one app: every read, and those the cache could not answer. */
export interface ReadCounts {
  all: number;
  database: number;
}

const TOKEN_READS = "lark_auth_token_reads_total";
const TOKEN_READS_HELP =
  "Grant reads on the token path, by app and where they were answered (cache, database).";

/**
 * `lark_auth_token_reads_total` as a collector over plain numbers: the token read path is benchmarked
 * against a no-op RPC, and prom-client's counter hashes its labels on every increment.
 */
class TokenReads {
  readonly name = TOKEN_READS;
  readonly help = TOKEN_READS_HELP;
  readonly byApp = new Map<string, ReadCounts>();

  of(appId: string): ReadCounts {
    let counts = this.byApp.get(appId);
    if (!counts) {
      counts = { all: 0, database: 0 };
      this.byApp.set(appId, counts);
    }
    return counts;
  }

  async get() {
    const values = [...this.byApp].flatMap(([appId, c]) => [
      { labels: { app_id: appId, source: "cache" }, value: c.all - c.database },
      { labels: { app_id: appId, source: "database" }, value: c.database },
    ]);
    return { name: TOKEN_READS, help: TOKEN_READS_HELP, type: "counter", values, aggregator: "sum" };
  }

  reset(): void {
    this.byApp.clear();
  }
}

/** Registers the token metrics on `registry`; `lark_auth_grants` is counted in the database at scrape time. */
export function createTokenMetrics(
  registry: Registry,
  opts: { readonly grants: GrantCounts; readonly onError?: (err: unknown) => void },
): TokenMetrics {
  const trigger = new AsyncLocalStorage<RefreshTrigger>();
  const refreshes = new Counter({
    name: "lark_auth_token_refreshes_total",
    help: "Refresh calls to Lark's token endpoint, by app, trigger (caller, background) and outcome (ok, reauth, transient, lost, rejected, error).",
    labelNames: ["app_id", "trigger", "outcome"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "lark_auth_grants",
    help: "Stored user grants by app and status (ACTIVE, REFRESH_UNCERTAIN, REAUTH_REQUIRED); read from the database at scrape time.",
    labelNames: ["app_id", "status"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        for (const row of await opts.grants()) this.set({ app_id: row.appId, status: row.status }, row.count);
      } catch (err) {
        opts.onError?.(err);
      }
    },
  });
  const reads = new TokenReads();
  registry.registerMetric(reads as never);
  return {
    triggeredBy: (t, work) => trigger.run(t, work),
    refreshed: (appId, outcome) =>
      refreshes.inc({ app_id: appId, trigger: trigger.getStore() ?? "caller", outcome }),
    reads: (appId) => reads.of(appId),
  };
}
