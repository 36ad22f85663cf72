import { readFileSync } from "node:fs";
import type { z } from "zod";
import { envSchema, type FileConfig, fileSchema, PERMISSIONS, type Permission } from "./schema.js";
import type { CallerKeyConfig, LarkAppConfig, ServiceConfig } from "./types.js";

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

function allPermissions(): ReadonlyMap<string, ReadonlySet<Permission>> {
  return new Map([["*", new Set<Permission>(PERMISSIONS)]]);
}

function envCallerKeys(spec: string | undefined, problems: string[]): CallerKeyConfig[] {
  if (!spec?.trim()) return [];
  return spec.split(",").flatMap((entry, i) => {
    const [name, hash] = entry.trim().split("=");
    if (!name || !hash || !/^[0-9a-f]{64}$/i.test(hash)) {
      // Named by position only: a malformed entry may be a pasted raw key, and this line is printed.
      problems.push(`LARK_AUTH_CALLER_KEYS: entry ${i + 1} must be name=<sha256 hex of the key>`);
      return [];
    }
    return [{ name, keySha256: hash.toLowerCase(), permissions: allPermissions() }];
  });
}

function resolveApps(
  env: z.infer<typeof envSchema>,
  file: FileConfig | undefined,
  source: EnvSource,
  problems: string[],
) {
  const defaultFlow = env.LARK_AUTH_FLOW ?? (env.LARK_AUTH_PUBLIC_URL ? "redirect" : "device");
  const apps: LarkAppConfig[] = [];
  for (const entry of file?.apps ?? []) {
    // A second row for the same app would make the start-up upsert of lark_app fail obscurely.
    if (apps.some((a) => a.appId === entry.app_id))
      problems.push(`LARK_AUTH_CONFIG: app ${entry.app_id} is listed twice`);
    const secret = source[entry.app_secret_env];
    if (!secret) problems.push(`${entry.app_secret_env}: not set (app_secret_env of ${entry.app_id})`);
    const flow = entry.flow ?? defaultFlow;
    apps.push({
      appId: entry.app_id,
      name: entry.name ?? entry.app_id,
      appSecret: secret ?? "",
      domain: entry.domain,
      flow,
    });
  }
  if (env.LARK_APP_ID || env.LARK_APP_SECRET) {
    if (!env.LARK_APP_ID) problems.push("LARK_APP_ID: required when LARK_APP_SECRET is set");
    if (!env.LARK_APP_SECRET) problems.push("LARK_APP_SECRET: required when LARK_APP_ID is set");
    if (env.LARK_APP_ID && env.LARK_APP_SECRET && !apps.some((a) => a.appId === env.LARK_APP_ID)) {
      const base = { appId: env.LARK_APP_ID, name: env.LARK_APP_ID, appSecret: env.LARK_APP_SECRET };
      apps.push({ ...base, domain: env.LARK_DOMAIN, flow: defaultFlow });
    }
  }
  return apps;
}

function fileCallerKeys(file: FileConfig | undefined): CallerKeyConfig[] {
  return (file?.caller_keys ?? []).map((c) => ({
    name: c.name,
    keySha256: c.key_sha256,
    permissions: new Map(Object.entries(c.permissions).map(([app, perms]) => [app, new Set(perms)])),
  }));
}

/**
 * Parses and validates the whole configuration at once.
 * Throws a ConfigError listing every problem (never only the first), so an operator
 * fixes them in one go; never reads anything but `source` and the config file.
 */
export function parseConfig(source: EnvSource): ServiceConfig {
  const problems: string[] = [];
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    // Still read the config file, so every problem is reported in one go.
    const file = source.LARK_AUTH_CONFIG;
    if (file) readFileConfig(file, problems);
    throw new ConfigError([...describe(parsed.error.issues, ""), ...problems]);
  }
  const env = parsed.data;
  const file = env.LARK_AUTH_CONFIG ? readFileConfig(env.LARK_AUTH_CONFIG, problems) : undefined;
  const apps = resolveApps(env, file, source, problems);
  const callerKeys = [...fileCallerKeys(file), ...envCallerKeys(env.LARK_AUTH_CALLER_KEYS, problems)];
  const sandbox = env.LARK_AUTH_SANDBOX ?? apps.length === 0;
  if (!sandbox && apps.length === 0) {
    problems.push(
      "LARK_AUTH_SANDBOX: 0 but no Lark app is configured (set LARK_APP_ID/LARK_APP_SECRET or LARK_AUTH_CONFIG)",
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const options = file?.options ?? fileSchema.parse({}).options;
  const publicUrl =
    env.LARK_AUTH_PUBLIC_URL ?? (sandbox ? `http://localhost:${env.LARK_AUTH_HTTP_PORT}` : undefined);
  return Object.freeze({
    grpcPort: env.LARK_AUTH_GRPC_PORT,
    httpPort: env.LARK_AUTH_HTTP_PORT,
    bindHost: env.LARK_AUTH_BIND_HOST,
    publicUrl: publicUrl?.replace(/\/+$/, ""),
    databaseUrl: env.DATABASE_URL,
    dataDir: env.LARK_AUTH_DATA_DIR,
    migrateOnStart: env.LARK_AUTH_MIGRATE_ON_START,
    logLevel: env.LARK_AUTH_LOG_LEVEL,
    shutdownGraceMs: env.LARK_AUTH_SHUTDOWN_GRACE_MS,
    apps,
    callerKeys,
    sandbox: {
      enabled: sandbox,
      emulatorPort: env.LARK_AUTH_EMULATOR_PORT,
      devCallerKey: env.LARK_AUTH_DEV_CALLER_KEY,
    },
    options: {
      sessionTtlSeconds: options.session_ttl_seconds,
      rateLimitPerUserPerMinute: options.rate_limit_per_user_per_minute,
      tokenRefreshThreshold: options.token_refresh_threshold,
    },
  });
}

/** Reads the process environment: the one place in the service that does. */
export function loadConfig(): ServiceConfig {
  return parseConfig(process.env);
}
