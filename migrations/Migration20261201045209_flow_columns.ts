import { Migration } from "@mikro-orm/migrations";

export class Migration20261201045209_flow_columns extends Migration {
  override name = "Migration20261201045209_flow_columns";

  override up(): void | Promise<void> {
    this.addSql(
      `alter table "auth_session" add "oauth_state_used_time" timestamptz null, add "card_message" text null, add "card_privacy_url" text null, add "card_description_style" text not null default 'DETAILED', add "card_chat_id" text null, add "card_synced_state" text null, add "card_attempts" int not null default 0, add "card_next_attempt_time" timestamptz null, add "device_interval_seconds" int null, add "device_next_poll_time" timestamptz null;`,
    );
    this.addSql(
      `create index "auth_session_card_work_idx" on "auth_session" ("card_next_attempt_time") where card_next_attempt_time is not null;`,
    );
    this.addSql(
      `create index "auth_session_device_poll_idx" on "auth_session" ("device_next_poll_time") where state = 'PENDING' and flow = 'DEVICE';`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_card_attempts_non_negative" check (card_attempts >= 0);`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_device_interval_positive" check (device_interval_seconds is null or device_interval_seconds > 0);`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_card_description_style_check" check ("card_description_style" in ('DETAILED', 'CONCISE'));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_card_synced_state_check" check ("card_synced_state" in ('PENDING', 'AUTHORIZED', 'DECLINED', 'EXPIRED', 'FAILED', 'CANCELLED'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "auth_session_card_work_idx";`);
    this.addSql(`drop index "auth_session_device_poll_idx";`);
    this.addSql(`alter table "auth_session" drop constraint "auth_session_card_attempts_non_negative";`);
    this.addSql(`alter table "auth_session" drop constraint "auth_session_device_interval_positive";`);
    this.addSql(`alter table "auth_session" drop constraint "auth_session_card_description_style_check";`);
    this.addSql(`alter table "auth_session" drop constraint "auth_session_card_synced_state_check";`);
    this.addSql(
      `alter table "auth_session" drop column "oauth_state_used_time", drop column "card_message", drop column "card_privacy_url", drop column "card_description_style", drop column "card_chat_id", drop column "card_synced_state", drop column "card_attempts", drop column "card_next_attempt_time", drop column "device_interval_seconds", drop column "device_next_poll_time";`,
    );
  }
}
