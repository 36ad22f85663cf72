import type { EventInbox, InboxClaim } from "../domain/inbox.js";
import type { Database } from "./database.js";
import { storeCall } from "./store-errors.js";

/**
 * The EventInbox port on `lark_inbound_event`. A claim is one upsert: a new row, or a takeover of a row
 * that is not done and whose lease lapsed (its handler's replica died); the primary key makes two
 * replicas racing for one event agree on a single winner.
 */
export function createEventInbox(db: Database): EventInbox {
  return {
    claim: (key, eventType, now, leaseMs) =>
      storeCall("claim inbound event", async (): Promise<InboxClaim> => {
        const em = db.em();
        const lease = new Date(now.getTime() + leaseMs);
        const claimed = await em.execute<unknown[]>(
          `insert into lark_inbound_event (app_id, event_id, event_type, received_time, lease_until)
           values (?, ?, ?, ?, ?)
           on conflict (app_id, event_id) do update set lease_until = excluded.lease_until
           where lark_inbound_event.done_time is null and lark_inbound_event.lease_until < excluded.received_time
           returning 1`,
          [key.appId, key.eventId, eventType, now, lease],
        );
        if (claimed.length > 0) return { kind: "claimed", lease };
        const [row] = await em.execute<{ done_time: unknown; answer: string | null }[]>(
          "select done_time, answer from lark_inbound_event where app_id = ? and event_id = ?",
          [key.appId, key.eventId],
        );
        // Gone between the two statements (released by a failed handler): Lark will ask again.
        if (!row?.done_time) return { kind: "busy" };
        return row.answer === null ? { kind: "done" } : { kind: "done", answer: row.answer };
      }),
    complete: (key, answer, now) =>
      storeCall("complete inbound event", async () => {
        await db
          .em()
          .execute(
            "update lark_inbound_event set done_time = ?, answer = ?, lease_until = null where app_id = ? and event_id = ?",
            [now, answer ?? null, key.appId, key.eventId],
          );
      }),
    release: (key, lease) =>
      storeCall("release inbound event", async () => {
        await db
          .em()
          .execute(
            "delete from lark_inbound_event where app_id = ? and event_id = ? and done_time is null and lease_until = ?",
            [key.appId, key.eventId, lease],
          );
      }),
    prune: (before, limit) =>
      storeCall("prune inbound events", async () => {
        const rows = await db.em().execute<unknown[]>(
          `delete from lark_inbound_event where (app_id, event_id) in (select app_id, event_id
           from lark_inbound_event where received_time < ? order by received_time limit ? for update skip locked)
           returning 1`,
          [before, limit],
        );
        return rows.length;
      }),
  };
}
