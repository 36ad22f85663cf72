import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

/**
 * One row per token handed out (GetUserAccessToken, RefreshUserAccessToken), for operators: who read
 * which user's token of which app, and when. Never the token itself. No foreign keys: the trail
 * outlives revoked grants and removed apps.
 */
export const TokenAccessAuditSchema = defineEntity({
  name: "TokenAccessAudit",
  tableName: "token_access_audit",
  properties: {
    id: p.bigint("string").primary().autoincrement().columnType("bigint").generated("identity"),
    occurTime: p.datetime(),
    appId: p.text(),
    openId: p.text(),
    /** The caller key's name (never the key). */
    caller: p.text(),
    /** The RPC that read the token. */
    rpc: p.text(),
  },
  indexes: [
    { name: "token_access_audit_app_user_idx", properties: ["appId", "openId", "occurTime"] },
    { name: "token_access_audit_caller_idx", properties: ["caller", "occurTime"] },
    { name: "token_access_audit_occur_time_idx", properties: ["occurTime"] },
  ],
});

export type ITokenAccessAudit = InferEntity<typeof TokenAccessAuditSchema>;
