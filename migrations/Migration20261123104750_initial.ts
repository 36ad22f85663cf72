import { Migration } from "@mikro-orm/migrations";

export class Migration20261123104750_initial extends Migration {
  override name = "Migration20261123104750_initial";

  override up(): void | Promise<void> {
    this.addSql(
      `create table "lark_app" ("app_id" text not null, "name" text not null, "domain" text not null, "flow" text not null, "app_secret_sealed" bytea null, "app_secret_key_id" text null, "create_time" timestamptz not null default now(), "update_time" timestamptz not null default now(), primary key ("app_id"));`,
    );

    this.addSql(
      `create table "auth_session" ("id" uuid not null, "app_id" text not null, "requested_user_kind" text not null, "requested_user_value" text not null, "state" text not null, "flow" text not null, "requested_scopes" text[] not null, "open_id" text null, "user_id" text null, "union_id" text null, "tenant_key" text null, "name" text null, "en_name" text null, "email" text null, "mobile" text null, "avatar_url" text null, "failure_reason" text null, "failure_message" text null, "create_time" timestamptz not null, "expire_time" timestamptz not null, "complete_time" timestamptz null, "card_message_id" text null, "authorize_url" text null, "context" text null, "idempotency_key" text null, "oauth_state_hash" bytea null, "pkce_verifier_sealed" bytea null, "pkce_verifier_key_id" text null, "device_code_sealed" bytea null, "device_code_key_id" text null, "version" int not null default 1, primary key ("id"));`,
    );
    this.addSql(
      `create index "auth_session_app_created_idx" on "auth_session" ("app_id", "create_time", "id");`,
    );
    this.addSql(
      `create index "auth_session_app_requested_user_idx" on "auth_session" ("app_id", "requested_user_kind", "requested_user_value");`,
    );
    this.addSql(
      `create index "auth_session_app_open_id_idx" on "auth_session" ("app_id", "open_id") where open_id is not null;`,
    );
    this.addSql(
      `create index "auth_session_app_user_id_idx" on "auth_session" ("app_id", "user_id") where user_id is not null;`,
    );
    this.addSql(
      `create index "auth_session_app_union_id_idx" on "auth_session" ("app_id", "union_id") where union_id is not null;`,
    );
    this.addSql(
      `create index "auth_session_pending_expire_idx" on "auth_session" ("expire_time") where state = 'PENDING';`,
    );
    this.addSql(
      `create unique index "auth_session_app_idempotency_key_uq" on "auth_session" ("app_id", "idempotency_key") where idempotency_key is not null;`,
    );
    this.addSql(
      `create unique index "auth_session_oauth_state_hash_uq" on "auth_session" ("oauth_state_hash") where oauth_state_hash is not null;`,
    );

    this.addSql(
      `create table "auth_event" ("id" bigint generated always as identity not null primary key, "type" text not null, "occur_time" timestamptz not null default now(), "app_id" text not null, "session_id" uuid null, "open_id" text null, "reason" text null, "payload" jsonb not null);`,
    );
    this.addSql(`create index "auth_event_app_id_idx" on "auth_event" ("app_id", "id");`);
    this.addSql(
      `create index "auth_event_session_idx" on "auth_event" ("session_id") where session_id is not null;`,
    );
    this.addSql(`create index "auth_event_occur_time_idx" on "auth_event" ("occur_time");`);

    this.addSql(
      `create table "user_grant" ("id" uuid not null, "app_id" text not null, "open_id" text not null, "user_id" text null, "union_id" text null, "tenant_key" text null, "name" text null, "en_name" text null, "email" text null, "mobile" text null, "avatar_url" text null, "scopes" text[] not null, "access_token_sealed" bytea not null, "access_token_key_id" text not null, "access_expire_time" timestamptz not null, "refresh_token_sealed" bytea null, "refresh_token_key_id" text null, "refresh_expire_time" timestamptz null, "status" text not null default 'ACTIVE', "version" bigint not null default 1, "lease_owner" text null, "lease_expire_time" timestamptz null, "last_refresh_time" timestamptz null, "consecutive_refresh_failures" int not null default 0, "create_time" timestamptz not null default now(), "update_time" timestamptz not null default now(), primary key ("id"));`,
    );
    this.addSql(
      `create index "user_grant_app_user_id_idx" on "user_grant" ("app_id", "user_id") where user_id is not null;`,
    );
    this.addSql(
      `create index "user_grant_app_union_id_idx" on "user_grant" ("app_id", "union_id") where union_id is not null;`,
    );
    this.addSql(
      `create index "user_grant_active_expire_idx" on "user_grant" ("access_expire_time") where status = 'ACTIVE';`,
    );
    this.addSql(
      `alter table "user_grant" add constraint "user_grant_app_open_id_uq" unique ("app_id", "open_id");`,
    );

    this.addSql(
      `alter table "lark_app" add constraint "lark_app_app_id_format" check (app_id ~* '^cli_[0-9a-f]{16}$');`,
    );
    this.addSql(
      `alter table "lark_app" add constraint "lark_app_name_not_blank" check (length(btrim(name)) > 0);`,
    );
    this.addSql(
      `alter table "lark_app" add constraint "lark_app_domain_not_blank" check (length(btrim(domain)) > 0);`,
    );
    this.addSql(
      `alter table "lark_app" add constraint "lark_app_secret_sealed_with_key" check ((app_secret_sealed is null) = (app_secret_key_id is null));`,
    );
    this.addSql(
      `alter table "lark_app" add constraint "lark_app_flow_check" check ("flow" in ('REDIRECT', 'DEVICE'));`,
    );

    this.addSql(
      `alter table "auth_session" add constraint "auth_session_app_id_foreign" foreign key ("app_id") references "lark_app" ("app_id");`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_requested_user_not_blank" check (length(requested_user_value) > 0);`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_authorized_has_identity" check (state <> 'AUTHORIZED' or (open_id is not null and complete_time is not null));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_complete_iff_final" check ((complete_time is null) = (state = 'PENDING'));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_identity_anchored" check (open_id is not null or coalesce(user_id, union_id, tenant_key, name, en_name, email, mobile, avatar_url) is null);`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_failed_has_reason" check (state <> 'FAILED' or failure_reason is not null);`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_no_failure_when_ok" check ((failure_reason is null and failure_message is null) or (state <> 'PENDING' and state <> 'AUTHORIZED'));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_expires_after_create" check (expire_time > create_time);`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_context_size" check (octet_length(context) <= 1024);`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_state_hash_size" check (octet_length(oauth_state_hash) = 32);`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_pkce_sealed_with_key" check ((pkce_verifier_sealed is null) = (pkce_verifier_key_id is null));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_device_sealed_with_key" check ((device_code_sealed is null) = (device_code_key_id is null));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_requested_user_kind_check" check ("requested_user_kind" in ('open_id', 'user_id', 'union_id', 'email'));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_state_check" check ("state" in ('PENDING', 'AUTHORIZED', 'DECLINED', 'EXPIRED', 'FAILED', 'CANCELLED'));`,
    );
    this.addSql(
      `alter table "auth_session" add constraint "auth_session_flow_check" check ("flow" in ('REDIRECT', 'DEVICE'));`,
    );

    this.addSql(
      `alter table "auth_event" add constraint "auth_event_app_id_foreign" foreign key ("app_id") references "lark_app" ("app_id");`,
    );
    this.addSql(
      `alter table "auth_event" add constraint "auth_event_payload_is_object" check (jsonb_typeof(payload) = 'object');`,
    );
    this.addSql(
      `alter table "auth_event" add constraint "auth_event_type_check" check ("type" in ('SESSION_CREATED', 'AUTHORIZED', 'DECLINED', 'EXPIRED', 'FAILED', 'CANCELLED', 'TOKEN_REFRESHED', 'REAUTHORIZATION_REQUIRED', 'AUTHORIZATION_REVOKED'));`,
    );
    this.addSql(
      `create or replace function "auth_event_auth_event_serialize_writers_fn"() returns trigger as $$ begin perform pg_advisory_xact_lock(hashtext('lark_auth.auth_event')); return null; end; $$ language plpgsql;`,
    );
    this.addSql(
      `create trigger "auth_event_serialize_writers" BEFORE INSERT on "auth_event" for each STATEMENT execute function "auth_event_auth_event_serialize_writers_fn"();`,
    );

    this.addSql(
      `alter table "user_grant" add constraint "user_grant_app_id_foreign" foreign key ("app_id") references "lark_app" ("app_id");`,
    );
    this.addSql(
      `alter table "user_grant" add constraint "user_grant_open_id_not_blank" check (length(open_id) > 0);`,
    );
    this.addSql(
      `alter table "user_grant" add constraint "user_grant_access_token_present" check (octet_length(access_token_sealed) > 0);`,
    );
    this.addSql(
      `alter table "user_grant" add constraint "user_grant_refresh_sealed_with_key" check ((refresh_token_sealed is null) = (refresh_token_key_id is null));`,
    );
    this.addSql(
      `alter table "user_grant" add constraint "user_grant_refresh_expiry_needs_token" check (refresh_expire_time is null or refresh_token_sealed is not null);`,
    );
    this.addSql(
      `alter table "user_grant" add constraint "user_grant_lease_complete" check ((lease_owner is null) = (lease_expire_time is null));`,
    );
    this.addSql(
      `alter table "user_grant" add constraint "user_grant_failures_non_negative" check (consecutive_refresh_failures >= 0);`,
    );
    this.addSql(
      `alter table "user_grant" add constraint "user_grant_status_check" check ("status" in ('ACTIVE', 'REFRESH_UNCERTAIN', 'REAUTH_REQUIRED'));`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "auth_session" drop constraint "auth_session_app_id_foreign";`);
    this.addSql(`alter table "auth_event" drop constraint "auth_event_app_id_foreign";`);
    this.addSql(`alter table "user_grant" drop constraint "user_grant_app_id_foreign";`);

    this.addSql(`drop table if exists "lark_app" cascade;`);
    this.addSql(`drop table if exists "auth_session" cascade;`);
    this.addSql(`drop trigger if exists "auth_event_serialize_writers" on "auth_event";`);
    this.addSql(`drop function if exists "auth_event_auth_event_serialize_writers_fn"();`);
    this.addSql(`drop table if exists "auth_event" cascade;`);
    this.addSql(`drop table if exists "user_grant" cascade;`);
  }
}
