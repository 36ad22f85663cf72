import { Writable } from "node:stream";
import { createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { TokenService } from "../../gen/lark/auth/v1/token_service_pb.js";
import { type App, buildApp } from "../../src/app.js";
import type { ServiceConfig } from "../../src/config/index.js";
import { parseConfig } from "../../src/config/index.js";
import { hashCallerKey } from "../../src/crypto/caller-keys.js";
import type { EventHubOptions } from "../../src/events/hub.js";
import type { JobTuning } from "../../src/flow/jobs.js";
import { type Database, openDatabase } from "../../src/store/database.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { createTestDatabase } from "./db.js";

export const TEST_APP_ID = "cli_0123456789abcdef";
export const OTHER_APP_ID = "cli_fedcba9876543210";
/** Holds every permission on every app. */
export const ADMIN_KEY = "lak_test_admin_key_0000000000000000";
/** Holds only auth:read on TEST_APP_ID. */
export const READER_KEY = "lak_test_reader_key_000000000000000";

/** The environment of a test instance: random ports on loopback, TEST_APP_ID, the admin key, a fixed sealing key. */
export const TEST_ENV: Readonly<Record<string, string>> = {
  LARK_AUTH_GRPC_PORT: "0",
  LARK_AUTH_HTTP_PORT: "0",
  LARK_AUTH_BIND_HOST: "127.0.0.1",
  LARK_AUTH_SANDBOX: "0",
  LARK_APP_ID: TEST_APP_ID,
  LARK_APP_SECRET: "test-app-secret-value",
  LARK_DOMAIN: "http://127.0.0.1:9",
  LARK_AUTH_CALLER_KEYS: `admin=${hashCallerKey(ADMIN_KEY)}`,
  LARK_AUTH_ENCRYPTION_KEYS: `test=${Buffer.alloc(32, 7).toString("base64")}`,
  LARK_AUTH_SHUTDOWN_GRACE_MS: "2000",
};

/** Every log line the app wrote, as parsed JSON and as raw text (for secret scans). */
export interface CapturedLogs {
  readonly lines: string[];
  records(): Record<string, unknown>[];
}

export interface TestApp {
  readonly app: App;
  readonly db: Database;
  /** The PostgreSQL URL of its database (PostgreSQL runs only), for a second instance to share. */
  readonly databaseUrl?: string;
  readonly logs: CapturedLogs;
  readonly grpcUrl: string;
  readonly httpUrl: string;
  transports(): { grpc: Transport; connect: Transport; grpcWeb: Transport };
  clients(key?: string): {
    auth: ReturnType<typeof createClient<typeof AuthService>>;
    token: ReturnType<typeof createClient<typeof TokenService>>;
  };
  close(): Promise<void>;
}

export function captureLogs(): { logs: CapturedLogs; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  return {
    logs: { lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) },
    stream,
  };
}

/** Beyond the environment: shorter job intervals, config changes, a database shared with another instance. */
export interface TestAppOptions {
  readonly jobs?: JobTuning;
  readonly config?: (config: ServiceConfig) => ServiceConfig;
  /** A PostgreSQL URL another test app uses: this one opens its own pool on it and leaves the database alone. */
  readonly sharedDatabaseUrl?: string;
  /** Connections in the PostgreSQL pool (default 4). */
  readonly poolSize?: number;
  /** Event hub tuning (e.g. a long poll, so only wake-ups deliver promptly). */
  readonly events?: EventHubOptions;
}

async function databaseFor(options: TestAppOptions) {
  const poolSize = options.poolSize ?? 4;
  if (!options.sharedDatabaseUrl) return createTestDatabase({ poolSize });
  const db = await openDatabase({ url: options.sharedDatabaseUrl, poolSize });
  return { db, url: options.sharedDatabaseUrl, close: () => db.close() };
}

/**
 * Starts the real service (both ports on 127.0.0.1, random ports) on a fresh test database,
 * with two configured apps and two caller keys; logs are captured at debug level.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const testDb = await databaseFor(options);
  const config = parseConfig({ ...TEST_ENV, ...env });
  const reader = {
    name: "reader",
    keySha256: hashCallerKey(READER_KEY),
    permissions: new Map([[TEST_APP_ID, new Set(["auth:read" as const])]]),
  };
  const { logs, stream } = captureLogs();
  const logger = createLogger({ level: "debug", destination: stream });
  const configured = { ...config, callerKeys: [...config.callerKeys, reader] };
  const app = await buildApp(options.config ? options.config(configured) : configured, {
    db: testDb.db,
    logger,
    ...(options.jobs && { jobs: options.jobs }),
    ...(options.events && { events: options.events }),
  }).catch(async (err: unknown) => {
    await testDb.close(); // A failed start must not leave the test database behind.
    throw err;
  });
  const grpcUrl = `http://127.0.0.1:${app.grpcPort}`;
  const httpUrl = `http://127.0.0.1:${app.httpPort}`;
  const transports = () => ({
    grpc: createGrpcTransport({ baseUrl: grpcUrl }),
    connect: createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" }),
    grpcWeb: createGrpcWebTransport({ baseUrl: httpUrl, httpVersion: "1.1" }),
  });
  const clients = (key = ADMIN_KEY) => {
    const transport = createGrpcTransport({
      baseUrl: grpcUrl,
      interceptors: [
        (next) => (req) => {
          req.header.set("authorization", `Bearer ${key}`);
          return next(req);
        },
      ],
    });
    return { auth: createClient(AuthService, transport), token: createClient(TokenService, transport) };
  };
  return {
    app,
    db: testDb.db,
    ...(testDb.url && { databaseUrl: testDb.url }),
    logs,
    grpcUrl,
    httpUrl,
    transports,
    clients,
    close: async () => {
      await app.close();
      await testDb.close();
    },
  };
}

/** Header options carrying a caller key, for clients built on raw transports. */
export function withKey(key: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${key}` } };
}
