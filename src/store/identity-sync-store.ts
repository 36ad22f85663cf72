import type { IdentitySyncStore } from "../domain/grants/user-info-sync.js";
import type { Database } from "./database.js";
import { storeCall } from "./store-errors.js";

/**
 * The claim stamps each row with the occurrence it is synced for, so a second replica (or a later tick
 * of the same occurrence) no longer finds it; grants created after the occurrence wait for the next.
 */
const CLAIM_SQL = `with due as (
    select id as due_id from user_grant
    where status <> 'REAUTH_REQUIRED' and coalesce(identity_sync_time, create_time) < ?
    order by due_id limit ? for update skip locked)
  update user_grant set identity_sync_time = ? from due where id = due_id
  returning id, app_id, open_id`;

export function createIdentitySyncStore(db: Database): IdentitySyncStore {
  return {
    claimUnsynced: (occurrence, limit) =>
      storeCall("claim user info sync", async () => {
        const rows = await db
          .em()
          .execute<{ id: string; app_id: string; open_id: string }[]>(CLAIM_SQL, [
            occurrence,
            limit,
            occurrence,
          ]);
        return rows.map((r) => ({ grantId: r.id, appId: r.app_id, openId: r.open_id }));
      }),
  };
}
