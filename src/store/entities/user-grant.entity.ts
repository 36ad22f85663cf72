import { defineEntity, type InferEntity, p } from "@mikro-orm/core";
import { LarkAppSchema } from "./lark-app.entity.js";

/** Where a grant stands: usable, refresh outcome unknown (Lark may have rotated), or dead. */
export const GRANT_STATUSES = ["ACTIVE", "REFRESH_UNCERTAIN", "REAUTH_REQUIRED"] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

/**
 * A user's stored authorization for one app: at most one per (app, open_id). Tokens are sealed
 * (AES-256-GCM, key id beside the ciphertext so keys can rotate) and hidden + lazy, so they are
 * neither serialized nor loaded unless a caller populates them on purpose.
 */
export const UserGrantSchema = defineEntity({
  name: "UserGrant",
  tableName: "user_grant",
  properties: {
    id: p.uuid().primary(),
    appId: p.manyToOne(LarkAppSchema).mapToPk().fieldName("app_id"),
    openId: p.text(),
    userId: p.text().nullable(),
    unionId: p.text().nullable(),
    tenantKey: p.text().nullable(),
    name: p.text().nullable(),
    enName: p.text().nullable(),
    email: p.text().nullable(),
    mobile: p.text().nullable(),
    avatarUrl: p.text().nullable(),
    scopes: p.array().columnType("text[]"),
    accessTokenSealed: p.blob().hidden().lazy(),
    accessTokenKeyId: p.text(),
    accessExpireTime: p.datetime(),
    refreshTokenSealed: p.blob().nullable().hidden().lazy(),
    refreshTokenKeyId: p.text().nullable(),
    refreshExpireTime: p.datetime().nullable(),
    status: p.enum(GRANT_STATUSES).default("ACTIVE"),
    /**
     * Fencing token: every write after a refresh is `... where version = <read version>` and bumps it,
     * so a writer whose lease expired (or who read a stale row) cannot overwrite a newer token pair.
     */
    version: p.bigint("number").version(),
    /** The refresh lease: who may call Lark's refresh endpoint for this grant, and until when. */
    leaseOwner: p.text().nullable(),
    leaseExpireTime: p.datetime().nullable(),
    lastRefreshTime: p.datetime().nullable(),
    consecutiveRefreshFailures: p.integer().default(0),
    /**
     * Set when a refresh is claimed (before Lark is called) and cleared when its outcome is recorded: a
     * lease found expired while this is set means Lark may have rotated the token and the answer was lost.
     */
    refreshAttemptTime: p.datetime().nullable(),
    /** Transient failures back off: no refresh is attempted before this instant. */
    refreshRetryTime: p.datetime().nullable(),
    /** When Lark issued the stored access token; with its expiry, the token's lifetime (refresh threshold). */
    accessIssueTime: p.datetime().nullable(),
    /** Why the grant needs re-authorization (e.g. REFRESH_TOKEN_REVOKED), for operators. */
    statusReason: p.text().nullable(),
    /**
     * When the user was last told this grant needs re-authorization (event, and a card where the app
     * nudges): the once-a-day limit, claimed by a conditional update so replicas never both send.
     */
    reauthNudgeTime: p.datetime().nullable(),
    /** The schedule occurrence the user-info sync last claimed this grant for (once per occurrence). */
    identitySyncTime: p.datetime().nullable(),
    createTime: p.datetime().defaultRaw("now()"),
    updateTime: p
      .datetime()
      .defaultRaw("now()")
      .onUpdate(() => new Date()),
  },
  checks: [
    { name: "user_grant_open_id_not_blank", expression: "length(open_id) > 0" },
    { name: "user_grant_access_token_present", expression: "octet_length(access_token_sealed) > 0" },
    {
      name: "user_grant_refresh_sealed_with_key",
      expression: "(refresh_token_sealed is null) = (refresh_token_key_id is null)",
    },
    {
      name: "user_grant_refresh_expiry_needs_token",
      expression: "refresh_expire_time is null or refresh_token_sealed is not null",
    },
    { name: "user_grant_lease_complete", expression: "(lease_owner is null) = (lease_expire_time is null)" },
    { name: "user_grant_failures_non_negative", expression: "consecutive_refresh_failures >= 0" },
  ],
  uniques: [{ name: "user_grant_app_open_id_uq", properties: ["appId", "openId"] }],
  indexes: [
    { name: "user_grant_app_user_id_idx", properties: ["appId", "userId"], where: "user_id is not null" },
    { name: "user_grant_app_union_id_idx", properties: ["appId", "unionId"], where: "union_id is not null" },
    // The background refresher: active grants, soonest access-token expiry first.
    { name: "user_grant_active_expire_idx", properties: ["accessExpireTime"], where: "status = 'ACTIVE'" },
    // The refresher also confirms grants whose last refresh outcome is unknown.
    {
      name: "user_grant_uncertain_idx",
      properties: ["refreshRetryTime"],
      where: "status = 'REFRESH_UNCERTAIN'",
    },
  ],
  triggers: [
    {
      // Every write, whoever makes it (refresh, re-authorization, revoke), tells every replica's token
      // cache on PostgreSQL: NOTIFY is sent at commit, so a listener never sees a change before it is
      // readable. The payload names the row only (app and open_id), never a token.
      name: "user_grant_notify_change",
      timing: "after",
      events: ["insert", "update", "delete"],
      forEach: "row",
      body: "perform pg_notify('lark_auth_grant', case when tg_op = 'DELETE' then old.app_id || ':' || old.open_id else new.app_id || ':' || new.open_id end); return null;",
    },
  ],
});

export type IUserGrant = InferEntity<typeof UserGrantSchema>;
