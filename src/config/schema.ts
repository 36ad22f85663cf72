import { z } from "zod";
import { cronProblem } from "./cron.js";

/** The permissions a caller key can hold per app (api-contract.md, "Caller authentication"). */
export const PERMISSIONS = ["auth:start", "auth:read", "auth:watch", "token:read", "token:revoke"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * A decimal integer in [min, max], written as digits only: "0x50", "1e3", " 80" and "8080.0" are
 * refused rather than reinterpreted (z.coerce.number() would accept them all, and "" as 0).
 */
function decimal(min: number, max: number) {
  return z.string().transform((v, ctx) => {
    const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : Number.NaN;
    if (n >= min && n <= max) return n;
    ctx.addIssue({ code: "custom", message: `must be a decimal integer from ${min} to ${max}` });
    return z.NEVER;
  });
}

const port = decimal(0, 65535);
const flow = z.enum(["redirect", "device"]);
const appIdPattern = /^cli_[0-9a-f]{16}$/i;
const sha256Hex = z
  .string()
  .regex(/^[0-9a-f]{64}$/i, "must be the SHA-256 of the key, 64 hex characters")
  .transform((s) => s.toLowerCase());
/** `feishu`, `lark`, or the base URL of a private deployment or an emulator. */
const domain = z
  .string()
  .refine(
    (v) => v === "feishu" || v === "lark" || (/^https?:\/\/[^\s/]+/.test(v) && URL.canParse(v)),
    "must be feishu, lark, or an http(s) base URL",
  );
const boolFlag = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

/** The sandbox app's fixed id, so grants stored in the embedded database stay meaningful across restarts. */
export const SANDBOX_APP_ID = "cli_5a4db0c0a11ce001";

/**
 * Every environment variable the service reads. Only `config/load.ts` touches
 * `process.env`; everything else receives the parsed, frozen `ServiceConfig`.
 * An empty variable means unset (load.ts drops them first), as compose's `${VAR:-}` passes them.
 */
export const envSchema = z.object({
  /** h2c port for gRPC callers. */
  LARK_AUTH_GRPC_PORT: port.default(50051),
  /** HTTP/1.1 port: Connect, gRPC-Web, OAuth callback, health, metrics, events WebSocket. */
  LARK_AUTH_HTTP_PORT: port.default(8080),
  /** Interface both ports bind to; default 0.0.0.0, or 127.0.0.1 in sandbox mode (it prints an all-powerful key). */
  LARK_AUTH_BIND_HOST: z.string().min(1).optional(),
  /** Base URL users' browsers reach, for the OAuth redirect (no trailing slash). */
  LARK_AUTH_PUBLIC_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  /** PostgreSQL URL; unset runs the embedded PGlite in LARK_AUTH_DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  /** Where embedded data lives (PGlite files). */
  LARK_AUTH_DATA_DIR: z.string().min(1).default("./.data"),
  /** Apply pending migrations at start-up (set 0 when a deploy step runs `npm run migrate`). */
  LARK_AUTH_MIGRATE_ON_START: boolFlag.default(true),
  /** Path to a JSON config file (apps, caller keys with per-app permissions, options). */
  LARK_AUTH_CONFIG: z.string().min(1).optional(),
  /** A single Lark app without a config file: its App ID (`cli_` + 16 hex). */
  LARK_APP_ID: z.string().regex(appIdPattern, "must look like cli_ followed by 16 hex digits").optional(),
  /** That app's App Secret. */
  LARK_APP_SECRET: z.string().min(1).optional(),
  /** That app's platform: `feishu`, `lark`, or a base URL (private deployment, emulator). */
  LARK_DOMAIN: domain.default("feishu"),
  /** That app's OAuth flow; default: redirect when LARK_AUTH_PUBLIC_URL is set, else device. */
  LARK_AUTH_FLOW: flow.optional(),
  /** That app's event delivery: `long_connection` (default, no public endpoint) or `webhook` (POST /lark/events). */
  LARK_EVENT_MODE: z.enum(["long_connection", "webhook"]).optional(),
  /** That app's Verification Token (Events & Callbacks), checked on every webhook request. */
  LARK_VERIFICATION_TOKEN: z.string().min(1).optional(),
  /** That app's Encrypt Key: webhook bodies arrive AES-encrypted and signed with it. */
  LARK_ENCRYPT_KEY: z.string().min(1).optional(),
  /** Comma-separated `name=<sha256 hex of the key>`; each holds every permission on every app. */
  LARK_AUTH_CALLER_KEYS: z.string().optional(),
  /**
   * `1`: run against the built-in Lark emulator with demo users. Default 1 only when nothing is configured
   * (no app, no DATABASE_URL, no LARK_AUTH_CONFIG), so a deployment never falls into it by omission.
   */
  LARK_AUTH_SANDBOX: boolFlag.optional(),
  /** Port of the in-process emulator in sandbox mode. */
  LARK_AUTH_EMULATOR_PORT: port.default(8090),
  /**
   * Interface the sandbox emulator binds to. Loopback by default: its control API is unauthenticated,
   * lists app secrets and approves consent as any user.
   */
  LARK_AUTH_EMULATOR_HOST: z.string().min(1).default("127.0.0.1"),
  /** Fixes the sandbox development caller key (otherwise generated at start-up). */
  LARK_AUTH_DEV_CALLER_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  /**
   * Comma-separated `key_id=<base64 of 32 random bytes>` sealing Lark tokens at rest: the first seals,
   * every one opens. Required outside sandbox mode (parsed in encryption-keys.ts).
   */
  LARK_AUTH_ENCRYPTION_KEYS: z.string().optional(),
  /** Log level: trace, debug, info, warn, error, fatal, silent. */
  LARK_AUTH_LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** How long shutdown waits for in-flight calls before cancelling them, in milliseconds. */
  LARK_AUTH_SHUTDOWN_GRACE_MS: decimal(0, 600_000).default(10_000),
  /** OpenTelemetry's standard variables: traces go out over OTLP/HTTP only when an endpoint is set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ error: "must be a URL" }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ error: "must be a URL" }).optional(),
  /** `none` turns tracing off even with an endpoint; `otlp` (the default) is the one exporter built in. */
  OTEL_TRACES_EXPORTER: z.enum(["otlp", "none"]).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default("lark-auth-service"),
});

/** Options with documented defaults (config file `options`). */
export const optionsSchema = z
  .object({
    /** How long a pending auth session lives, in seconds. */
    session_ttl_seconds: z.number().int().min(60).max(3600).default(600),
    /** StartAuthorization calls allowed per (app, user) per minute. */
    rate_limit_per_user_per_minute: z.number().int().min(1).max(1000).default(5),
    /** Refresh a token once this fraction of its lifetime has passed (0.5-0.95). */
    token_refresh_threshold: z.number().min(0.5).max(0.95).default(0.8),
    /** How long finished sessions are kept, in days. */
    retention_days: z.number().int().min(1).max(365).default(7),
    /** How long auth events stay in the log (the window a watcher can resume in), in hours. */
    event_retention_hours: z
      .number()
      .int()
      .min(1)
      .max(24 * 365)
      .default(24),
    /**
     * Fraction of Lark's documented per-app limits this replica uses (0.05-1). With N replicas sharing
     * an app, set about 0.9 / N so their sum stays below Lark's limits.
     */
    lark_limit_headroom: z.number().min(0.05).max(1).default(0.9),
    /**
     * Lark's per-app limit of each API (message create, message patch, token endpoint), per second and
     * per minute. Lark documents 50 and 1000; change them only for a private deployment or an emulator
     * configured otherwise.
     */
    lark_rate_limit_per_second: z.number().int().min(1).max(100_000).default(50),
    lark_rate_limit_per_minute: z.number().int().min(1).max(6_000_000).default(1000),
    /** Fraction of an app's token-endpoint budget device polling may use (0.05-0.9). */
    device_poll_share: z.number().min(0.05).max(0.9).default(0.3),
    /** How long one Lark HTTP call may take before it is abandoned as a time-out, in milliseconds. */
    lark_http_timeout_ms: z.number().int().min(100).max(120_000).default(10_000),
    /**
     * Attempts in all (the first included) of a Lark call that is safe to repeat: a tenant token or
     * user info read, a card send with its uuid, a card update. Code exchanges and refreshes are never
     * repeated. 1 turns retries off.
     */
    lark_retry_max_attempts: z.number().int().min(1).max(10).default(3),
    /** The first back-off between attempts; each later one doubles (with jitter), in milliseconds. */
    lark_retry_base_delay_ms: z.number().int().min(10).max(60_000).default(200),
    /**
     * The longest one back-off may be, in milliseconds. A rate-limit answer asking for a longer wait
     * is not waited out: the call fails (UNAVAILABLE with RetryInfo, or the job retries later).
     */
    lark_retry_max_delay_ms: z.number().int().min(100).max(600_000).default(5_000),
    /** Consecutive failed Lark calls (5xx, time-outs, network errors) of one app that open its circuit. */
    lark_circuit_failure_threshold: z.number().int().min(1).max(1000).default(5),
    /** How long an open circuit fails the app's calls fast before one probe call, in milliseconds. */
    lark_circuit_cooldown_ms: z.number().int().min(100).max(3_600_000).default(30_000),
    /**
     * A grant whose refresh token expires within this many hours counts as needing re-authorization
     * (event, and a card where the app nudges). Keep it below the background refresher's one day,
     * so a refresh that can still extend the token gets its chance first.
     */
    reauthorization_nudge_margin_hours: z.number().int().min(1).max(720).default(12),
    /**
     * Re-fetch every grant's user info from Lark on this schedule (five-field cron, UTC, e.g.
     * "0 3 * * *"); unset: never (the default).
     */
    user_info_sync_cron: z
      .string()
      .refine((v) => cronProblem(v) === undefined, { error: (i) => cronProblem(String(i.input)) })
      .optional(),
    /**
     * Reconnect attempts of an app's long connection, in a row, before it is reported `failed` (and, with
     * `lark_ws_fallback_to_webhook`, handed to webhook delivery). The supervisor keeps probing at the
     * longest back-off afterwards, so a connection comes back by itself once Lark does.
     */
    lark_ws_max_reconnect_attempts: z.number().int().min(1).max(10_000).default(10),
    /** The first reconnect back-off; each later one doubles (with jitter) up to the next setting, in ms. */
    lark_ws_reconnect_base_delay_ms: z.number().int().min(10).max(60_000).default(1_000),
    /** The longest reconnect back-off, in ms (lowered further by the reconnect interval Lark sends). */
    lark_ws_reconnect_max_delay_ms: z.number().int().min(100).max(600_000).default(60_000),
    /**
     * How often each long connection is checked, in ms: a dropped connection is noticed within this.
     * Silent connections (no pong within `lark_ws_pong_timeout_seconds` of a ping) are cut and redialled.
     */
    lark_ws_heartbeat_interval_ms: z.number().int().min(50).max(60_000).default(1_000),
    lark_ws_pong_timeout_seconds: z.number().int().min(1).max(600).default(10),
    /**
     * When an app's long connection has failed `lark_ws_max_reconnect_attempts` times, accept its events
     * at POST /lark/events (the app needs a verification token) until the connection is back.
     */
    lark_ws_fallback_to_webhook: z.boolean().default(false),
    /** How far a webhook request's X-Lark-Request-Timestamp may be from now before it is refused as a replay. */
    lark_webhook_max_skew_seconds: z.number().int().min(10).max(3600).default(300),
    /** How long received event ids are remembered for de-duplication, in hours (Lark redelivers for up to 6 h). */
    lark_event_dedup_hours: z
      .number()
      .int()
      .min(1)
      .max(24 * 30)
      .default(24),
  })
  .strict();

const appEntry = z
  .object({
    app_id: z.string().regex(appIdPattern, "must look like cli_ followed by 16 hex digits"),
    /** Name of the environment variable holding the App Secret (secrets never live in the file). */
    app_secret_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name"),
    name: z.string().min(1).max(100).optional(),
    domain: domain.default("feishu"),
    flow: flow.optional(),
    /**
     * A card template from Lark's card builder (its template id) sent instead of the built-in
     * authorization card; the template receives the card's facts as variables (session_id, app_name,
     * permissions, authorize_url, user_code, expires_at, ...). Result cards stay built-in.
     */
    card_template_id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, "must be a card template id (letters, digits, _ and -)")
      .optional(),
    /**
     * Re-authorization nudges: when a user's grant needs re-authorization (or its refresh token is about
     * to expire and refreshing cannot extend it), send them a fresh authorization card, at most once a day.
     */
    reauthorization_nudge: z.boolean().default(false),
    /** How Lark delivers this app's events and card callbacks. */
    event_mode: z.enum(["long_connection", "webhook"]).default("long_connection"),
    /** Environment variable holding the app's Verification Token (webhook mode or fallback). */
    verification_token_env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name")
      .optional(),
    /** Environment variable holding the app's Encrypt Key (webhook bodies encrypted and signed). */
    encrypt_key_env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name")
      .optional(),
  })
  .strict();

const callerEntry = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, "letters, digits, . _ - (at most 63)"),
    key_sha256: sha256Hex,
    /** Per app id (or `*` for every app): the permissions held. */
    permissions: z.record(z.string(), z.array(z.enum(PERMISSIONS)).min(1)),
  })
  .strict();

/** The optional JSON config file. */
export const fileSchema = z
  .object({
    apps: z.array(appEntry).default([]),
    caller_keys: z.array(callerEntry).default([]),
    options: optionsSchema.default(optionsSchema.parse({})),
  })
  .strict();

export type Env = z.infer<typeof envSchema>;
export type FileConfig = z.infer<typeof fileSchema>;
export type Options = z.infer<typeof optionsSchema>;
