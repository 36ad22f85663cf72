import { defineEntity, type InferEntity, p } from "@mikro-orm/core";
import { SESSION_STATES } from "../../domain/sessions/session.js";
import type { UserIdKind } from "../../domain/users.js";
import { AUTH_FLOWS, LarkAppSchema } from "./lark-app.entity.js";

/** The identifier kinds a caller may name a user by. */
export const USER_ID_KINDS = [
  "open_id",
  "user_id",
  "union_id",
  "email",
] as const satisfies readonly UserIdKind[];

/** How much the card says about each requested permission. */
export const CARD_DESCRIPTION_STYLES = ["DETAILED", "CONCISE"] as const;

/**
 * One attempt to obtain a user's consent. The checks encode the state machine's invariants, so a
 * buggy writer gets an error instead of a row the domain cannot read back.
 */
export const AuthSessionSchema = defineEntity({
  name: "AuthSession",
  tableName: "auth_session",
  properties: {
    id: p.uuid().primary(),
    appId: p.manyToOne(LarkAppSchema).mapToPk().fieldName("app_id"),
    requestedUserKind: p.enum(USER_ID_KINDS),
    requestedUserValue: p.text(),
    state: p.enum(SESSION_STATES),
    flow: p.enum(AUTH_FLOWS),
    requestedScopes: p.array().columnType("text[]"),
    // The resolved identity: null until known; open_id is the anchor of every other field.
    openId: p.text().nullable(),
    userId: p.text().nullable(),
    unionId: p.text().nullable(),
    tenantKey: p.text().nullable(),
    name: p.text().nullable(),
    enName: p.text().nullable(),
    email: p.text().nullable(),
    mobile: p.text().nullable(),
    avatarUrl: p.text().nullable(),
    failureReason: p.text().nullable(),
    failureMessage: p.text().nullable(),
    createTime: p.datetime(),
    expireTime: p.datetime(),
    completeTime: p.datetime().nullable(),
    cardMessageId: p.text().nullable(),
    authorizeUrl: p.text().nullable(),
    context: p.text().nullable(),
    idempotencyKey: p.text().nullable(),
    /** SHA-256 of the OAuth `state`; the callback finds its session by it, never by the raw value. */
    oauthStateHash: p.blob().nullable().hidden().lazy(),
    pkceVerifierSealed: p.blob().nullable().hidden().lazy(),
    pkceVerifierKeyId: p.text().nullable(),
    deviceCodeSealed: p.blob().nullable().hidden().lazy(),
    deviceCodeKeyId: p.text().nullable(),
    /** Set when the callback claims the state: a second callback with it finds it used (single use). */
    oauthStateUsedTime: p.datetime().nullable(),
    // What a replica needs to (re)build the card later, and the card's delivery bookkeeping.
    cardMessage: p.text().nullable(),
    cardPrivacyUrl: p.text().nullable(),
    cardDescriptionStyle: p.enum(CARD_DESCRIPTION_STYLES).default("DETAILED"),
    cardChatId: p.text().nullable(),
    /** The state the delivered card shows; the dispatcher updates the card while it differs from `state`. */
    cardSyncedState: p.enum(SESSION_STATES).nullable(),
    cardAttempts: p.integer().default(0),
    /** When the dispatcher should next work on the card; null = nothing to do. */
    cardNextAttemptTime: p.datetime().nullable(),
    deviceIntervalSeconds: p.integer().nullable(),
    deviceNextPollTime: p.datetime().nullable(),
    /**
     * The device flow's user code, shown on the card. Not a secret in the OAuth sense (the person reads
     * it off the card), but it names a live consent: hidden, so it stays out of logs and the API.
     */
    deviceUserCode: p.text().nullable().hidden(),
    /** Optimistic concurrency: every state change is a compare-and-set on this column. */
    version: p.integer().version(),
  },
  checks: [
    { name: "auth_session_requested_user_not_blank", expression: "length(requested_user_value) > 0" },
    {
      name: "auth_session_authorized_has_identity",
      expression: "state <> 'AUTHORIZED' or (open_id is not null and complete_time is not null)",
    },
    { name: "auth_session_complete_iff_final", expression: "(complete_time is null) = (state = 'PENDING')" },
    {
      name: "auth_session_identity_anchored",
      expression:
        "open_id is not null or coalesce(user_id, union_id, tenant_key, name, en_name, email, mobile, avatar_url) is null",
    },
    { name: "auth_session_failed_has_reason", expression: "state <> 'FAILED' or failure_reason is not null" },
    {
      name: "auth_session_no_failure_when_ok",
      expression:
        "(failure_reason is null and failure_message is null) or (state <> 'PENDING' and state <> 'AUTHORIZED')",
    },
    { name: "auth_session_expires_after_create", expression: "expire_time > create_time" },
    { name: "auth_session_context_size", expression: "octet_length(context) <= 1024" },
    { name: "auth_session_state_hash_size", expression: "octet_length(oauth_state_hash) = 32" },
    {
      name: "auth_session_pkce_sealed_with_key",
      expression: "(pkce_verifier_sealed is null) = (pkce_verifier_key_id is null)",
    },
    {
      name: "auth_session_device_sealed_with_key",
      expression: "(device_code_sealed is null) = (device_code_key_id is null)",
    },
    { name: "auth_session_card_attempts_non_negative", expression: "card_attempts >= 0" },
    {
      name: "auth_session_device_interval_positive",
      expression: "device_interval_seconds is null or device_interval_seconds > 0",
    },
  ],
  indexes: [
    // ListAuthSessions: keyset pagination, newest first.
    // (A backward scan serves `order by create_time desc, id desc`; no DESC columns needed.)
    { name: "auth_session_app_created_idx", properties: ["appId", "createTime", "id"] },
    // ListAuthSessions by user and the pending-session lookup of StartAuthorization.
    {
      name: "auth_session_app_requested_user_idx",
      properties: ["appId", "requestedUserKind", "requestedUserValue"],
    },
    // The user filter also matches the resolved identity (a session asked by email, resolved to an open_id).
    { name: "auth_session_app_open_id_idx", properties: ["appId", "openId"], where: "open_id is not null" },
    { name: "auth_session_app_user_id_idx", properties: ["appId", "userId"], where: "user_id is not null" },
    {
      name: "auth_session_app_union_id_idx",
      properties: ["appId", "unionId"],
      where: "union_id is not null",
    },
    // The expiry sweeper scans only pending rows, oldest deadline first.
    { name: "auth_session_pending_expire_idx", properties: ["expireTime"], where: "state = 'PENDING'" },
    // The card dispatcher claims due card work, oldest first.
    {
      name: "auth_session_card_work_idx",
      properties: ["cardNextAttemptTime"],
      where: "card_next_attempt_time is not null",
    },
    // The device poller claims pending device sessions whose next poll is due.
    {
      name: "auth_session_device_poll_idx",
      properties: ["deviceNextPollTime"],
      where: "state = 'PENDING' and flow = 'DEVICE'",
    },
  ],
  uniques: [
    {
      name: "auth_session_app_idempotency_key_uq",
      properties: ["appId", "idempotencyKey"],
      where: "idempotency_key is not null",
    },
    {
      name: "auth_session_oauth_state_hash_uq",
      properties: ["oauthStateHash"],
      where: "oauth_state_hash is not null",
    },
  ],
});

export type IAuthSession = InferEntity<typeof AuthSessionSchema>;
