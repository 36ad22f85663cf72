import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { resolveCallerKeys } from "./caller-keys.js";
import { GENERATE_KEY_HINT, parseEncryptionKeys } from "./encryption-keys.js";
import { type Env, envSchema, type FileConfig, fileSchema, SANDBOX_APP_ID } from "./schema.js";
import type { CallerKeyConfig, EncryptionKey, LarkAppConfig, ServiceConfig } from "./types.js";

/** Every problem found in the configuration, one line each, naming the setting. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type EnvSource = Readonly<Record<string, string | undefined>>;

function describe(issues: readonly z.core.$ZodIssue[], prefix: string): string[] {
  return issues.map((i) => `${prefix}${i.path.join(".")}: ${i.message}`);
}

function readFileConfig(path: string, problems: string[]): FileConfig | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    // Only the kind of failure: JSON.parse messages quote the file's text, which may hold a secret.
    const why = err instanceof SyntaxError ? "it is not valid JSON" : "it cannot be read";
    problems.push(`LARK_AUTH_CONFIG: cannot use ${path}: ${why}`);
    return undefined;
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...describe(parsed.error.issues, `LARK_AUTH_CONFIG ${path}: `));
    return undefined;
  }
  return parsed.data;
}

function resolveApps(env: Env, file: FileConfig | undefined, source: EnvSource, problems: string[]) {
  const defaultFlow = env.LARK_AUTH_FLOW ?? (env.LARK_AUTH_PUBLIC_URL ? "redirect" : "device");
  const apps: LarkAppConfig[] = [];
  for (const entry of file?.apps ?? []) {
    // A second row for the same app would make the start-up upsert of lark_app fail obscurely.
    if (apps.some((a) => a.appId === entry.app_id))
      problems.push(`LARK_AUTH_CONFIG: app ${entry.app_id} is listed twice`);
    const secret = source[entry.app_secret_env];
    if (!secret) problems.push(`${entry.app_secret_env}: not set (app_secret_env of ${entry.app_id})`);
    const flow = entry.flow ?? defaultFlow;
    const events = eventSecrets(entry, source, problems);
    apps.push({
      appId: entry.app_id,
      name: entry.name ?? entry.app_id,
      appSecret: secret ?? "",
      domain: entry.domain,
      flow,
      ...(entry.card_template_id && { cardTemplateId: entry.card_template_id }),
      ...(entry.reauthorization_nudge && { reauthorizationNudge: true }),
      ...events,
    });
  }
  if (env.LARK_APP_ID || env.LARK_APP_SECRET) {
    if (!env.LARK_APP_ID) problems.push("LARK_APP_ID: required when LARK_APP_SECRET is set");
    if (!env.LARK_APP_SECRET) problems.push("LARK_APP_SECRET: required when LARK_APP_ID is set");
    if (env.LARK_APP_ID && env.LARK_APP_SECRET && !apps.some((a) => a.appId === env.LARK_APP_ID)) {
      const base = { appId: env.LARK_APP_ID, name: env.LARK_APP_ID, appSecret: env.LARK_APP_SECRET };
      apps.push({ ...base, domain: env.LARK_DOMAIN, flow: defaultFlow, ...envEventSecrets(env, problems) });
    }
  }
  return apps;
}

type EventSecrets = Pick<LarkAppConfig, "eventMode" | "verificationToken" | "encryptKey">;

/** A webhook app without a verification token could not tell Lark's requests from anyone's. */
function requireToken(secrets: EventSecrets, where: string, problems: string[]): EventSecrets {
  if (secrets.eventMode === "webhook" && !secrets.verificationToken)
    problems.push(`${where}: event_mode webhook needs the app's verification token`);
  return secrets;
}

function eventSecrets(entry: FileConfig["apps"][number], source: EnvSource, problems: string[]) {
  const read = (name: string | undefined) => {
    if (!name) return undefined;
    const value = source[name];
    if (!value) problems.push(`${name}: not set (named by app ${entry.app_id})`);
    return value;
  };
  const verificationToken = read(entry.verification_token_env);
  const encryptKey = read(entry.encrypt_key_env);
  return requireToken(
    {
      eventMode: entry.event_mode,
      ...(verificationToken && { verificationToken }),
      ...(encryptKey && { encryptKey }),
    },
    `LARK_AUTH_CONFIG app ${entry.app_id}`,
    problems,
  );
}

function envEventSecrets(env: Env, problems: string[]): EventSecrets {
  return requireToken(
    {
      eventMode: env.LARK_EVENT_MODE ?? "long_connection",
      ...(env.LARK_VERIFICATION_TOKEN && { verificationToken: env.LARK_VERIFICATION_TOKEN }),
      ...(env.LARK_ENCRYPT_KEY && { encryptKey: env.LARK_ENCRYPT_KEY }),
    },
    "LARK_VERIFICATION_TOKEN",
    problems,
  );
}

/** Compose and `.env` files pass unset variables as ""; empty means unset, never 0 or false. */
function withoutEmpty(source: EnvSource): EnvSource {
  return Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
}

/**
 * Sandbox mode on its own only when nothing at all is configured: a deployment that forgot its app
 * must fail, not serve an unauthenticated emulator that approves consent as anyone.
 */
function sandboxMode(env: Env, apps: readonly LarkAppConfig[], problems: string[]): boolean {
  const configured = env.LARK_APP_ID ?? env.LARK_APP_SECRET ?? env.DATABASE_URL ?? env.LARK_AUTH_CONFIG;
  const sandbox = env.LARK_AUTH_SANDBOX ?? configured === undefined;
  // Half an app (only an id or only a secret) or an unusable config file is reported already.
  const reported =
    env.LARK_APP_ID || env.LARK_APP_SECRET || problems.some((p) => p.startsWith("LARK_AUTH_CONFIG"));
  if (sandbox || apps.length > 0 || reported) return sandbox;
  const how = "set LARK_APP_ID and LARK_APP_SECRET, or LARK_AUTH_CONFIG (a file listing apps)";
  if (env.LARK_AUTH_SANDBOX === false)
    problems.push(`LARK_AUTH_SANDBOX: 0 but no Lark app is configured (${how})`);
  else
    problems.push(
      `LARK_APP_ID: no Lark app is configured: ${how}; or LARK_AUTH_SANDBOX=1 to try the built-in emulator ` +
        "(sandbox mode starts by itself only when nothing is configured)",
    );
  return false;
}

function encryptionKeys(env: Env, sandbox: boolean, problems: string[]): EncryptionKey[] {
  const spec = env.LARK_AUTH_ENCRYPTION_KEYS;
  if (spec !== undefined) return parseEncryptionKeys(spec, "LARK_AUTH_ENCRYPTION_KEYS", problems);
  if (!sandbox)
    problems.push(
      `LARK_AUTH_ENCRYPTION_KEYS: required outside sandbox mode (seals Lark tokens at rest); make one with ${GENERATE_KEY_HINT}`,
    );
  return [];
}

/**
 * Parses and validates the whole configuration at once.
 * Throws a ConfigError listing every problem (never only the first), so an operator
 * fixes them in one go; never reads anything but `source` and the config file.
 */
export function parseConfig(rawSource: EnvSource): ServiceConfig {
  const source = withoutEmpty(rawSource);
  const problems: string[] = [];
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    // Still read the config file, so every problem is reported in one go.
    const file = source.LARK_AUTH_CONFIG;
    if (file) readFileConfig(file, problems);
    throw new ConfigError([...describe(parsed.error.issues, ""), ...problems]);
  }
  const env = parsed.data;
  const path = env.LARK_AUTH_CONFIG;
  const fileConfig = path ? readFileConfig(path, problems) : undefined;
  const file = path && fileConfig ? { config: fileConfig, path } : undefined;
  const apps = resolveApps(env, fileConfig, source, problems);
  const sandbox = sandboxMode(env, apps, problems);
  const appIds = new Set([...apps.map((a) => a.appId), ...(sandbox ? [SANDBOX_APP_ID] : [])]);
  const callerKeys = resolveCallerKeys(file, env.LARK_AUTH_CALLER_KEYS, appIds, problems);
  const keys = encryptionKeys(env, sandbox, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return build(env, fileConfig, { apps, callerKeys, keys, sandbox });
}

/** The frozen ServiceConfig from validated parts. */
function build(
  env: Env,
  file: FileConfig | undefined,
  parts: { apps: LarkAppConfig[]; callerKeys: CallerKeyConfig[]; keys: EncryptionKey[]; sandbox: boolean },
): ServiceConfig {
  const options = file?.options ?? fileSchema.parse({}).options;
  const publicUrl =
    env.LARK_AUTH_PUBLIC_URL ?? (parts.sandbox ? `http://localhost:${env.LARK_AUTH_HTTP_PORT}` : undefined);
  return Object.freeze({
    grpcPort: env.LARK_AUTH_GRPC_PORT,
    httpPort: env.LARK_AUTH_HTTP_PORT,
    // Sandbox prints a key holding every permission: it stays on this machine unless told otherwise.
    bindHost: env.LARK_AUTH_BIND_HOST ?? (parts.sandbox ? "127.0.0.1" : "0.0.0.0"),
    publicUrl: publicUrl?.replace(/\/+$/, ""),
    databaseUrl: env.DATABASE_URL,
    // Absolute: the embedded database's socket lives in it, and a relative socket path reads as a host name.
    dataDir: resolve(env.LARK_AUTH_DATA_DIR),
    migrateOnStart: env.LARK_AUTH_MIGRATE_ON_START,
    logLevel: env.LARK_AUTH_LOG_LEVEL,
    shutdownGraceMs: env.LARK_AUTH_SHUTDOWN_GRACE_MS,
    tracing: {
      otlp:
        env.OTEL_TRACES_EXPORTER !== "none" &&
        (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) !== undefined,
      serviceName: env.OTEL_SERVICE_NAME,
    },
    apps: parts.apps,
    callerKeys: parts.callerKeys,
    encryptionKeys: parts.keys,
    sandbox: {
      enabled: parts.sandbox,
      emulatorPort: env.LARK_AUTH_EMULATOR_PORT,
      emulatorHost: env.LARK_AUTH_EMULATOR_HOST,
      devCallerKey: env.LARK_AUTH_DEV_CALLER_KEY,
    },
    options: {
      sessionTtlSeconds: options.session_ttl_seconds,
      rateLimitPerUserPerMinute: options.rate_limit_per_user_per_minute,
      tokenRefreshThreshold: options.token_refresh_threshold,
      retentionDays: options.retention_days,
      eventRetentionHours: options.event_retention_hours,
      larkLimitHeadroom: options.lark_limit_headroom,
      larkRateLimitPerSecond: options.lark_rate_limit_per_second,
      larkRateLimitPerMinute: options.lark_rate_limit_per_minute,
      devicePollShare: options.device_poll_share,
      reauthorizationMarginMs: options.reauthorization_nudge_margin_hours * 3_600_000,
      ...(options.user_info_sync_cron && { userInfoSyncCron: options.user_info_sync_cron }),
      larkCalls: {
        httpTimeoutMs: options.lark_http_timeout_ms,
        maxAttempts: options.lark_retry_max_attempts,
        baseDelayMs: options.lark_retry_base_delay_ms,
        maxDelayMs: options.lark_retry_max_delay_ms,
        failureThreshold: options.lark_circuit_failure_threshold,
        cooldownMs: options.lark_circuit_cooldown_ms,
      },
      larkEvents: {
        maxReconnectAttempts: options.lark_ws_max_reconnect_attempts,
        reconnectBaseDelayMs: options.lark_ws_reconnect_base_delay_ms,
        reconnectMaxDelayMs: options.lark_ws_reconnect_max_delay_ms,
        heartbeatIntervalMs: options.lark_ws_heartbeat_interval_ms,
        pongTimeoutSeconds: options.lark_ws_pong_timeout_seconds,
        fallbackToWebhook: options.lark_ws_fallback_to_webhook,
        webhookMaxSkewSeconds: options.lark_webhook_max_skew_seconds,
        dedupHours: options.lark_event_dedup_hours,
      },
    },
  });
}

/** Reads the process environment: the one place in the service that does. */
export function loadConfig(): ServiceConfig {
  return parseConfig(process.env);
}
