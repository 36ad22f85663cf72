import type { Database } from "../../src/store/database.js";

/**
 * The session columns the design adds in the flow core's migration ("Session columns added by a
 * new migration"), applied here only until that migration is merged; `if not exists` makes this a
 * no-op afterwards, so it can stay until the integrator deletes it.
 */
export async function ensureJobColumns(db: Database): Promise<void> {
  const em = db.em();
  await em.execute(`alter table auth_session
    add column if not exists oauth_state_used_time timestamptz null,
    add column if not exists card_message text null,
    add column if not exists card_privacy_url text null,
    add column if not exists card_description_style text not null default 'DETAILED',
    add column if not exists card_chat_id text null,
    add column if not exists card_synced_state text null,
    add column if not exists card_attempts int not null default 0,
    add column if not exists card_next_attempt_time timestamptz null,
    add column if not exists device_interval_seconds int null,
    add column if not exists device_next_poll_time timestamptz null`);
  await em.execute(`create index if not exists auth_session_card_due_idx on auth_session (card_next_attempt_time)
    where card_next_attempt_time is not null`);
  await em.execute(`create index if not exists auth_session_device_poll_idx on auth_session (device_next_poll_time)
    where state = 'PENDING' and flow = 'DEVICE'`);
}
