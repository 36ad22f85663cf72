import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

/** The OAuth flows an app can use, as stored (upper case, like the contract's enum). */
export const AUTH_FLOWS = ["REDIRECT", "DEVICE"] as const;

/**
 * A Lark app the service brokers tokens for. Rows are synced from configuration at start-up;
 * sessions, grants and events reference them, so an app id can never dangle.
 */
export const LarkAppSchema = defineEntity({
  name: "LarkApp",
  tableName: "lark_app",
  properties: {
    appId: p.text().primary().fieldName("app_id"),
    name: p.text(),
    /** `feishu`, `lark`, or a base URL serving the Open Platform and accounts paths. */
    domain: p.text(),
    flow: p.enum(AUTH_FLOWS),
    /** AES-256-GCM sealed App Secret; filled by a later issue, hence nullable. */
    appSecretSealed: p.blob().nullable().hidden().lazy(),
    appSecretKeyId: p.text().nullable(),
    createTime: p.datetime().defaultRaw("now()"),
    updateTime: p
      .datetime()
      .defaultRaw("now()")
      .onUpdate(() => new Date()),
  },
  checks: [
    // Same shape as the config schema's pattern (case-insensitive there too).
    { name: "lark_app_app_id_format", expression: "app_id ~* '^cli_[0-9a-f]{16}$'" },
    { name: "lark_app_name_not_blank", expression: "length(btrim(name)) > 0" },
    { name: "lark_app_domain_not_blank", expression: "length(btrim(domain)) > 0" },
    {
      name: "lark_app_secret_sealed_with_key",
      expression: "(app_secret_sealed is null) = (app_secret_key_id is null)",
    },
  ],
});

export type ILarkApp = InferEntity<typeof LarkAppSchema>;
