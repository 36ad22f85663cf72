import { Migration } from "@mikro-orm/migrations";

/**
 * The inbox of Lark events and card callbacks, keyed by (app, event id): Lark redelivers (to any replica,
 * over the long connection or the webhook) and each event must take effect once. Named after the
 * device-code migration so it applies after it everywhere.
 */
export class Migration20261202100000_lark_inbound_event extends Migration {
  override name = "Migration20261202100000_lark_inbound_event";

  override up(): void | Promise<void> {
    this.addSql(
      `create table "lark_inbound_event" ("app_id" text not null, "event_id" text not null, "event_type" text not null, "received_time" timestamptz not null, "lease_until" timestamptz null, "done_time" timestamptz null, "answer" text null, primary key ("app_id", "event_id"));`,
    );
    this.addSql(
      `create index "lark_inbound_event_received_time_idx" on "lark_inbound_event" ("received_time");`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "lark_inbound_event" cascade;`);
  }
}
