import type { Database } from "./database.js";

/**
 * The counts Prometheus reads at scrape time: grouped counts over small, indexed sets (pending
 * sessions) or one row per user (grants). Plain queries, not storeCall: a scrape is no operation of
 * the service's, and a failing one only leaves its gauge empty.
 */
export function createMetricCounts(db: Database) {
  return {
    async pendingSessions(): Promise<ReadonlyMap<string, number>> {
      const rows = await db
        .em()
        .execute<{ app_id: string; n: number }[]>(
          "select app_id, count(*)::int as n from auth_session where state = 'PENDING' group by app_id",
        );
      return new Map(rows.map((r) => [r.app_id, Number(r.n)]));
    },
    async grants(): Promise<{ appId: string; status: string; count: number }[]> {
      const rows = await db
        .em()
        .execute<{ app_id: string; status: string; n: number }[]>(
          "select app_id, status, count(*)::int as n from user_grant group by app_id, status",
        );
      return rows.map((r) => ({ appId: r.app_id, status: r.status, count: Number(r.n) }));
    },
  };
}
