import type { RetentionStore } from "../domain/jobs.js";
import type { Database } from "./database.js";
import { storeCall } from "./store-errors.js";

/**
 * The RetentionStore port: bounded batches (short statements, short locks), SKIP LOCKED so
 * replicas pruning at once delete different rows and never wait on a session being finished.
 */
export function createRetentionStore(db: Database): RetentionStore {
  return {
    pruneSessions: (before, limit) =>
      storeCall("prune sessions", async () => {
        const rows = await db.em().execute<{ id: string }[]>(
          `delete from auth_session where id in (select id from auth_session where state <> 'PENDING'
           and complete_time < ? order by complete_time limit ? for update skip locked) returning id`,
          [before, limit],
        );
        return rows.length;
      }),
    pruneEvents: (before, limit) =>
      storeCall("prune events", async () => {
        const rows = await db.em().execute<{ id: string }[]>(
          `delete from auth_event where id in (select id from auth_event where occur_time < ?
           order by id limit ? for update skip locked) returning id`,
          [before, limit],
        );
        return rows.length;
      }),
  };
}
