import type { Permission } from "./schema.js";

export type { Permission } from "./schema.js";

/** A Lark app the service brokers tokens for. */
export interface LarkAppConfig {
  readonly appId: string;
  readonly name: string;
  /** Never logged; the logger redacts it by key as well. */
  readonly appSecret: string;
  /** `feishu`, `lark`, or a base URL serving both Open Platform and accounts paths. */
  readonly domain: string;
  readonly flow: "redirect" | "device";
  /** A Lark card template that replaces the built-in authorization card (config file only). */
  readonly cardTemplateId?: string;
  /** Send a fresh authorization card when the user's grant needs re-authorization (config file only). */
  readonly reauthorizationNudge?: boolean;
  /** How Lark delivers the app's events and card callbacks: its long connection (default), or POST /lark/events. */
  readonly eventMode?: "long_connection" | "webhook";
  /** Checked on webhook requests (header.token); a secret: never logged. */
  readonly verificationToken?: string;
  /** Decrypts and authenticates webhook requests (X-Lark-Signature); a secret: never logged. */
  readonly encryptKey?: string;
}

/** The long connections' supervision and the webhook receiver. */
export interface LarkEventOptions {
  readonly maxReconnectAttempts: number;
  readonly reconnectBaseDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly heartbeatIntervalMs: number;
  readonly pongTimeoutSeconds: number;
  readonly fallbackToWebhook: boolean;
  readonly webhookMaxSkewSeconds: number;
  readonly dedupHours: number;
}

/** A caller key: who it is, the SHA-256 of the key, and what it may do per app (`*` = every app). */
export interface CallerKeyConfig {
  readonly name: string;
  readonly keySha256: string;
  readonly permissions: ReadonlyMap<string, ReadonlySet<Permission>>;
}

/** A key sealing Lark tokens at rest (AES-256-GCM); its id is written into every ciphertext. */
export interface EncryptionKey {
  readonly id: string;
  /** 32 bytes. Never logged: the logger prints Buffers as their length only. */
  readonly key: Buffer;
}

/** The sandbox: the in-process Lark emulator with a demo app and users. */
export interface SandboxConfig {
  readonly enabled: boolean;
  readonly emulatorPort: number;
  /** Interface the emulator binds to; loopback unless LARK_AUTH_EMULATOR_HOST says otherwise. */
  readonly emulatorHost: string;
  /** The development caller key; generated at start-up when unset. */
  readonly devCallerKey?: string;
}

/** Whether spans are exported; the OTLP exporter reads its other OTEL_EXPORTER_OTLP_* settings itself. */
export interface TracingConfig {
  readonly otlp: boolean;
  readonly serviceName: string;
}

/** The whole, validated, frozen configuration. */
export interface ServiceConfig {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly bindHost: string;
  readonly publicUrl?: string;
  readonly databaseUrl?: string;
  readonly dataDir: string;
  readonly migrateOnStart: boolean;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  /** Trace export (OTEL_* variables); absent or `otlp: false` means no SDK is started. */
  readonly tracing?: TracingConfig;
  readonly apps: readonly LarkAppConfig[];
  readonly callerKeys: readonly CallerKeyConfig[];
  /**
   * From LARK_AUTH_ENCRYPTION_KEYS, first seals, all open. Never empty outside sandbox mode; in sandbox
   * mode empty when unset, and the running sandbox supplies the key it keeps in the data dir.
   */
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly sandbox: SandboxConfig;
  readonly options: {
    readonly sessionTtlSeconds: number;
    readonly rateLimitPerUserPerMinute: number;
    readonly tokenRefreshThreshold: number;
    readonly retentionDays: number;
    readonly eventRetentionHours: number;
    readonly larkLimitHeadroom: number;
    readonly larkRateLimitPerSecond: number;
    readonly larkRateLimitPerMinute: number;
    readonly devicePollShare: number;
    /** A refresh token expiring within this counts as needing re-authorization (milliseconds). */
    readonly reauthorizationMarginMs: number;
    /** When to re-fetch every grant's user info (five-field cron, UTC); absent: never. */
    readonly userInfoSyncCron?: string;
    /** The outbound call policy of every Lark call (time-out, retries, per-app circuit breaker). */
    readonly larkCalls: {
      readonly httpTimeoutMs: number;
      readonly maxAttempts: number;
      readonly baseDelayMs: number;
      readonly maxDelayMs: number;
      readonly failureThreshold: number;
      readonly cooldownMs: number;
    };
    readonly larkEvents: LarkEventOptions;
  };
}
