import { Migration } from "@mikro-orm/migrations";

/**
 * The event log stays gap-free, but its writer lock no longer spans a client round trip.
 *
 * Before: a statement trigger took the writer lock before each insert, so the lock was held from the
 * event insert, through the client's next turn (it reads the insert's answer, then sends COMMIT), to
 * the commit. Every event-writing transaction in every replica queued behind that round trip: in a
 * burst of StartAuthorization calls, half the pool waited on the lock while its holder sat idle in
 * transaction, waiting for its own process to send COMMIT.
 *
 * After: a deferred constraint trigger runs inside COMMIT: it takes the same lock and gives the row
 * its final id (`id = default`, the next value of the identity), so ids are still handed out and
 * committed one transaction at a time, and readers keep `where id > $cursor`: once an id is visible,
 * every smaller final id is visible or rolled back. The id drawn at insert time is provisional and
 * never visible (its row is uncommitted until it is replaced). Rows of one transaction keep their
 * insertion order. A writer that needs the final id before commit (store/event-writer.ts) sets the
 * constraint IMMEDIATE: the trigger then runs at the end of each insert and the lock is held to commit,
 * as before.
 */
export class Migration20261201061500_event_ids_at_commit extends Migration {
  override name = "Migration20261201061500_event_ids_at_commit";

  override up(): void | Promise<void> {
    this.addSql(`drop trigger if exists "auth_event_serialize_writers" on "auth_event";`);
    this.addSql(
      `create or replace function "auth_event_auth_event_serialize_writers_fn"() returns trigger as $$ begin perform pg_advisory_xact_lock(hashtext('lark_auth.auth_event')); update auth_event set id = default where id = new.id; return null; end; $$ language plpgsql;`,
    );
    this.addSql(
      `create constraint trigger "auth_event_serialize_writers" after insert on "auth_event" deferrable initially deferred for each row execute function "auth_event_auth_event_serialize_writers_fn"();`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "auth_event_serialize_writers" on "auth_event";`);
    this.addSql(
      `create or replace function "auth_event_auth_event_serialize_writers_fn"() returns trigger as $$ begin perform pg_advisory_xact_lock(hashtext('lark_auth.auth_event')); return null; end; $$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "auth_event_serialize_writers" BEFORE INSERT on "auth_event" for each STATEMENT execute function "auth_event_auth_event_serialize_writers_fn"();`,
    );
  }
}
