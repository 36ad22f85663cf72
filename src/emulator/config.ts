import { z } from "zod";

/** Platform knobs a test can turn; every duration is in seconds, like the Open Platform's own fields. */
export interface EmulatorConfig {
  /** Lifetime of a user access token (`expires_in`). */
  accessTokenTtlSeconds: number;
  /** Lifetime of a refresh token (`refresh_token_expires_in`); each rotation starts it afresh. */
  refreshTokenTtlSeconds: number;
  /** How long an authorization code can be exchanged (5 minutes on Lark). */
  codeTtlSeconds: number;
  /** Lifetime of tenant and app access tokens (`expire`, 2 hours on Lark). */
  tenantTokenTtlSeconds: number;
  /** Minimum seconds between device-code polls before `slow_down`. */
  devicePollIntervalSeconds: number;
  /** Lifetime of a device code / user code pair. */
  deviceCodeTtlSeconds: number;
  /** Lifetime of a card callback update token (`c-…`, 30 minutes on Lark). */
  cardTokenTtlSeconds: number;
  /** How many delayed updates one callback token allows (2 on Feishu). */
  cardTokenUses: number;
  /** Age of a grant after which refreshing fails with 20037 (365 days on Lark). */
  grantMaxAgeSeconds: number;
  /** Per app and API: requests per second before 99991400 (50 on Lark). */
  rateLimitPerSecond: number;
  /** Per app and API: requests per minute before 99991400 (1000 on Lark). */
  rateLimitPerMinute: number;
  /** Messages per second to one user before 230020 (5 on Lark). */
  messagesPerUserPerSecond: number;
}

export const defaultConfig: EmulatorConfig = {
  accessTokenTtlSeconds: 7200,
  refreshTokenTtlSeconds: 604_800,
  codeTtlSeconds: 300,
  tenantTokenTtlSeconds: 7200,
  devicePollIntervalSeconds: 5,
  deviceCodeTtlSeconds: 240,
  cardTokenTtlSeconds: 1800,
  cardTokenUses: 2,
  grantMaxAgeSeconds: 365 * 24 * 3600,
  rateLimitPerSecond: 50,
  rateLimitPerMinute: 1000,
  messagesPerUserPerSecond: 5,
};

const seconds = z.number().positive();

/** The `POST /_emulator/config` body: snake_case names after the wire fields they control. */
export const configPatchSchema = z
  .object({
    access_token_expires_in: seconds,
    refresh_token_expires_in: seconds,
    code_expires_in: seconds,
    tenant_token_expires_in: seconds,
    device_poll_interval: z.number().nonnegative(),
    device_code_expires_in: seconds,
    card_token_expires_in: seconds,
    card_token_uses: z.number().int().positive(),
    grant_max_age: seconds,
    rate_limit_per_second: z.number().int().positive(),
    rate_limit_per_minute: z.number().int().positive(),
    messages_per_user_per_second: z.number().int().positive(),
  })
  .partial()
  .strict();

export type ConfigPatch = z.infer<typeof configPatchSchema>;

const wireNames: Record<keyof ConfigPatch, keyof EmulatorConfig> = {
  access_token_expires_in: "accessTokenTtlSeconds",
  refresh_token_expires_in: "refreshTokenTtlSeconds",
  code_expires_in: "codeTtlSeconds",
  tenant_token_expires_in: "tenantTokenTtlSeconds",
  device_poll_interval: "devicePollIntervalSeconds",
  device_code_expires_in: "deviceCodeTtlSeconds",
  card_token_expires_in: "cardTokenTtlSeconds",
  card_token_uses: "cardTokenUses",
  grant_max_age: "grantMaxAgeSeconds",
  rate_limit_per_second: "rateLimitPerSecond",
  rate_limit_per_minute: "rateLimitPerMinute",
  messages_per_user_per_second: "messagesPerUserPerSecond",
};

/** Applies a wire-named patch in place; later requests see the new values at once. */
export function applyConfigPatch(config: EmulatorConfig, patch: ConfigPatch): void {
  for (const [wire, value] of Object.entries(patch)) {
    if (value !== undefined) config[wireNames[wire as keyof ConfigPatch]] = value;
  }
}

/** The config in wire names, as `POST /_emulator/config` answers it. */
export function configToWire(config: EmulatorConfig): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [wire, key] of Object.entries(wireNames)) out[wire] = config[key];
  return out;
}
