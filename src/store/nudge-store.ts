import type { NudgeClaim, NudgeStore } from "../domain/grants/nudge.js";
import type { Database } from "./database.js";
import { appendGrantEvent, GRANT_COLUMNS, type GrantRow, toDate } from "./grant-rows.js";
import { storeCall } from "./store-errors.js";

/**
 * One statement claims the batch: the CTE locks due rows (SKIP LOCKED: another replica's batch takes
 * others) and keeps their previous nudge time; the update stamps them. Millisecond precision, so the
 * stamp read back into a Date still fences `unclaim`.
 */
const CLAIM_SQL = `with due as (
    select id as due_id, reauth_nudge_time as prev from user_grant
    where (reauth_nudge_time is null or reauth_nudge_time <= now() - (? * interval '1 millisecond'))
      and ((status = 'REAUTH_REQUIRED' and app_id = any(?::text[]))
        or (status <> 'REAUTH_REQUIRED' and refresh_expire_time <= now() + (? * interval '1 millisecond')))
    order by due_id limit ? for update skip locked)
  update user_grant set reauth_nudge_time = date_trunc('milliseconds', now()) from due where id = due_id
  returning ${GRANT_COLUMNS}, due.prev, reauth_nudge_time`;

type ClaimRow = GrantRow & { prev: Date | string | null; reauth_nudge_time: Date | string };

/** A PostgreSQL text[] literal of app ids (cli_ + hex: nothing to escape, quoted anyway). */
const appIdArray = (ids: readonly string[]) =>
  `{${ids.map((id) => `"${id.replace(/["\\]/g, "")}"`).join(",")}}`;

export function createNudgeStore(db: Database): NudgeStore {
  return {
    claimDue: (nudgingApps, due, limit) =>
      storeCall("claim re-authorization nudges", () =>
        db.em().transactional(async (em) => {
          const rows = await em.execute<ClaimRow[]>(CLAIM_SQL, [
            due.quietMs,
            appIdArray(nudgingApps),
            due.marginMs,
            limit,
          ]);
          const claims = rows.map(toClaim);
          // A grant marked REAUTH_REQUIRED had its event when it was marked; an expiring one has it now.
          for (const row of rows)
            if (row.status !== "REAUTH_REQUIRED")
              await appendGrantEvent(em, "REAUTHORIZATION_REQUIRED", row, "REFRESH_TOKEN_EXPIRING");
          return claims;
        }),
      ),
    unclaim: (claim) =>
      storeCall("give back a re-authorization nudge", async () => {
        await db
          .em()
          .execute("update user_grant set reauth_nudge_time = ? where id = ? and reauth_nudge_time = ?", [
            claim.previousNudgeTime ?? null,
            claim.grantId,
            claim.nudgeTime,
          ]);
      }),
  };
}

function toClaim(row: ClaimRow): NudgeClaim {
  const previous = toDate(row.prev);
  return {
    grantId: row.id,
    appId: row.app_id,
    openId: row.open_id,
    scopes: row.scopes,
    reason: row.status === "REAUTH_REQUIRED" ? "REAUTH_REQUIRED" : "REFRESH_TOKEN_EXPIRING",
    nudgeTime: toDate(row.reauth_nudge_time),
    ...(previous && { previousNudgeTime: previous }),
  };
}
