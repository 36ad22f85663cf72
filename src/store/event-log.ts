import type { EventLogReader, StoredAuthEvent } from "../domain/events.js";
import type { Database } from "./database.js";
import type { AuthEventType } from "./entities/auth-event.entity.js";
import { storeCall } from "./store-errors.js";

export type { EventLogReader, EventRange, StoredAuthEvent } from "../domain/events.js";

interface EventRow {
  id: string;
  type: AuthEventType;
  occur_time: Date | string;
  app_id: string;
  session_id: string | null;
  open_id: string | null;
  reason: string | null;
  payload: Record<string, unknown> | string;
}

function fromRow(r: EventRow): StoredAuthEvent {
  return {
    id: BigInt(r.id),
    type: r.type,
    occurTime: r.occur_time instanceof Date ? r.occur_time : new Date(r.occur_time),
    appId: r.app_id,
    ...(r.session_id !== null && { sessionId: r.session_id }),
    ...(r.open_id !== null && { openId: r.open_id }),
    ...(r.reason !== null && { reason: r.reason }),
    payload: typeof r.payload === "string" ? (JSON.parse(r.payload) as Record<string, unknown>) : r.payload,
  };
}

const COLUMNS = "id, type, occur_time, app_id, session_id, open_id, reason, payload";

/** The EventLogReader over the service's database; each call is one statement on a fresh fork. */
export function createEventLogReader(db: Database): EventLogReader {
  const horizon = async () => {
    const rows = await db
      .em()
      .execute<{ h: string }[]>("select pruned_through as h from auth_event_horizon where id = 1");
    return BigInt(rows[0]?.h ?? 0);
  };
  return {
    latestId: () =>
      storeCall("read latest event id", async () => {
        const rows = await db.em().execute<{ m: string | null }[]>("select max(id) as m from auth_event");
        const max = rows[0]?.m;
        return max == null ? horizon() : BigInt(max);
      }),
    horizon: () => storeCall("read event horizon", horizon),
    readAfter: (after, limit, range = {}) =>
      storeCall("read events", async () => {
        const where = ["id > ?"];
        const params: unknown[] = [after.toString()];
        if (range.sessionId !== undefined) {
          where.push("session_id = ?");
          params.push(range.sessionId);
        }
        if (range.appId !== undefined) {
          where.push("app_id = ?");
          params.push(range.appId);
        }
        const rows = await db
          .em()
          .execute<EventRow[]>(
            `select ${COLUMNS} from auth_event where ${where.join(" and ")} order by id limit ?`,
            [...params, limit],
          );
        return rows.map(fromRow);
      }),
  };
}
