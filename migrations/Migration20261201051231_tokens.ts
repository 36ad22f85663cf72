import { Migration } from "@mikro-orm/migrations";

export class Migration20261201051231_tokens extends Migration {
  override name = "Migration20261201051231_tokens";

  override up(): void | Promise<void> {
    this.addSql(
      `create table "token_access_audit" ("id" bigint generated always as identity not null primary key, "occur_time" timestamptz not null, "app_id" text not null, "open_id" text not null, "caller" text not null, "rpc" text not null);`,
    );
    this.addSql(
      `create index "token_access_audit_app_user_idx" on "token_access_audit" ("app_id", "open_id", "occur_time");`,
    );
    this.addSql(
      `create index "token_access_audit_caller_idx" on "token_access_audit" ("caller", "occur_time");`,
    );
    this.addSql(`create index "token_access_audit_occur_time_idx" on "token_access_audit" ("occur_time");`);

    this.addSql(
      `alter table "user_grant" add "refresh_attempt_time" timestamptz null, add "refresh_retry_time" timestamptz null, add "access_issue_time" timestamptz null, add "status_reason" text null;`,
    );
    this.addSql(
      `create index "user_grant_uncertain_idx" on "user_grant" ("refresh_retry_time") where status = 'REFRESH_UNCERTAIN';`,
    );
    this.addSql(
      `create or replace function "user_grant_user_grant_notify_change_fn"() returns trigger as $$ begin perform pg_notify('lark_auth_grant', case when tg_op = 'DELETE' then old.app_id || ':' || old.open_id else new.app_id || ':' || new.open_id end); return null; end; $$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "user_grant_notify_change" AFTER INSERT OR UPDATE OR DELETE on "user_grant" for each ROW execute function "user_grant_user_grant_notify_change_fn"();`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "token_access_audit" cascade;`);

    this.addSql(`drop index "user_grant_uncertain_idx";`);
    this.addSql(`drop trigger if exists "user_grant_notify_change" on "user_grant";`);
    this.addSql(`drop function if exists "user_grant_user_grant_notify_change_fn"();`);
    this.addSql(
      `alter table "user_grant" drop column "refresh_attempt_time", drop column "refresh_retry_time", drop column "access_issue_time", drop column "status_reason";`,
    );
  }
}
