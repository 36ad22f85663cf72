import { Migration } from "@mikro-orm/migrations";

/**
 * Event log support for watchers:
 * - `auth_event_horizon` keeps the highest id ever deleted from `auth_event`, kept by a statement
 *   trigger on every delete (the pruner's or anyone's; row-level, and pruning deletes in small batches). A cursor below it may have missed a pruned
 *   event, so it is answered OUT_OF_RANGE; a cursor at or above it missed nothing. Exact, unlike
 *   `min(id)`, which cannot tell a pruned id from one a rolled-back transaction never used.
 * - `auth_event_notify` sends `NOTIFY lark_auth_events` from every inserting transaction (delivered
 *   at commit only, folded per transaction), so writers need no code of their own to wake the
 *   readers of other replicas. The table stays the truth: readers also poll.
 */
export class Migration20261124090000_event_horizon extends Migration {
  override name = "Migration20261124090000_event_horizon";

  override up(): void | Promise<void> {
    this.addSql(
      `create table "auth_event_horizon" ("id" smallint not null default 1, "pruned_through" bigint not null default 0, primary key ("id"), constraint "auth_event_horizon_single_row" check (id = 1));`,
    );
    this.addSql(`insert into "auth_event_horizon" ("id", "pruned_through") values (1, 0);`);
    this.addSql(
      `create or replace function "auth_event_auth_event_advance_horizon_fn"() returns trigger as $$ begin update auth_event_horizon set pruned_through = greatest(pruned_through, old.id) where id = 1; return null; end; $$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "auth_event_advance_horizon" AFTER DELETE on "auth_event" for each ROW execute function "auth_event_auth_event_advance_horizon_fn"();`,
    );
    this.addSql(
      `create or replace function "auth_event_auth_event_notify_fn"() returns trigger as $$ begin perform pg_notify('lark_auth_events', ''); return null; end; $$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "auth_event_notify" AFTER INSERT on "auth_event" for each STATEMENT execute function "auth_event_auth_event_notify_fn"();`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "auth_event_notify" on "auth_event";`);
    this.addSql(`drop function if exists "auth_event_auth_event_notify_fn"();`);
    this.addSql(`drop trigger if exists "auth_event_advance_horizon" on "auth_event";`);
    this.addSql(`drop function if exists "auth_event_auth_event_advance_horizon_fn"();`);
    this.addSql(`drop table if exists "auth_event_horizon";`);
  }
}
