import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DescFile } from "@bufbuild/protobuf";
import { AuthService, file_lark_auth_v1_auth_service } from "../gen/lark/auth/v1/auth_service_pb.js";
import { file_lark_auth_v1_token_service, TokenService } from "../gen/lark/auth/v1/token_service_pb.js";
import type { CallerKeyConfig, LarkAppConfig, ServiceConfig } from "./config/types.js";
import { createPageTokens, type PageTokens } from "./domain/sessions/page-token.js";
import { buildFlow, type Flow, publicUrlOf } from "./flow/index.js";
import type { JobTuning } from "./flow/jobs.js";
import { createHttpServer } from "./http/server.js";
import { addConnectService } from "./rpc/connect-mount.js";
import { createGrpcServer, type GrpcServer } from "./rpc/grpc-server.js";
import { authenticateInterceptor, authorizeInterceptor } from "./rpc/interceptors/auth.js";
import { telemetryInterceptor } from "./rpc/interceptors/telemetry.js";
import { validateInterceptor } from "./rpc/interceptors/validate.js";
import { createPipeline, type ServiceHandlers } from "./rpc/pipeline.js";
import { createAuthServiceHandlers } from "./rpc/services/auth-service.js";
import { createTokenServiceHandlers } from "./rpc/services/token-service.js";
import type { Sandbox } from "./sandbox.js";
import { createShutdownController } from "./shutdown.js";
import { syncApps } from "./store/apps.js";
import { type Database, openDatabase } from "./store/database.js";
import { createSessionStore } from "./store/session-store.js";
import { createLogger, type Logger } from "./telemetry/logger.js";
import { createMetrics } from "./telemetry/metrics.js";
import { getTracer } from "./telemetry/tracing.js";

/** Replaceable parts, for tests: an already open database, a logger. */
export interface AppOverrides {
  readonly db?: Database;
  readonly logger?: Logger;
  /** Shorter job intervals, for tests. */
  readonly jobs?: JobTuning;
}

/** A running service: its bound ports and one way to stop it. */
export interface App {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly apps: readonly LarkAppConfig[];
  readonly sandbox?: Sandbox;
  readonly logger: Logger;
  /** Graceful: stop accepting, drain in-flight calls up to the grace period, end streams, close the database. */
  close(): Promise<void>;
}

const SERVICES = [AuthService, TokenService] as const;
const FILES: DescFile[] = [file_lark_auth_v1_auth_service, file_lark_auth_v1_token_service];

function handlersFor(
  db: Database,
  pageTokens: PageTokens,
  flow: Flow,
): Map<(typeof SERVICES)[number]["methods"][number], ServiceHandlers[string]> {
  const byService = [
    [
      AuthService,
      createAuthServiceHandlers({ sessions: createSessionStore(db), pageTokens, flow: flow.auth }),
    ],
    [TokenService, createTokenServiceHandlers()],
  ] as const;
  const map = new Map();
  for (const [service, handlers] of byService) {
    for (const method of service.methods) map.set(method, handlers[method.localName]);
  }
  return map;
}

function listenHttp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Ready = the database answers and every migration is applied. */
function readinessOf(db: Database) {
  return async () => {
    const reachable = await db.ping();
    const pending = reachable ? await db.migrationsPending().catch(() => -1) : -1;
    const checks = {
      database: reachable ? "ok" : "unreachable",
      migrations: pending === 0 ? "ok" : "pending",
    };
    return { ready: reachable && pending === 0, checks };
  };
}

/** Both transports around one pipeline, sharing the shutdown signals; not listening yet. */
function createServers(
  config: ServiceConfig,
  db: Database,
  logger: Logger,
  callerKeys: readonly CallerKeyConfig[],
  flow: Flow,
) {
  const stopping = createShutdownController(config.shutdownGraceMs);
  const metrics = createMetrics();
  // Who is calling, then is the request well-formed, then may they: nothing a caller sent is
  // echoed (in a denial, a log line) before validation has bounded it.
  const chain = [
    telemetryInterceptor(getTracer(), metrics.rpc, logger),
    authenticateInterceptor(() => callerKeys),
    validateInterceptor,
    authorizeInterceptor,
  ];
  // A per-process key until ServiceConfig carries the shared encryption keys: page tokens then come
  // from derivePageTokenKey(first encryption key) and survive restarts and cross replicas; with
  // this one a token is only honoured by the process that issued it.
  const pageTokens = createPageTokens(randomBytes(32));
  const mount = {
    pipeline: createPipeline(handlersFor(db, pageTokens, flow), chain),
    logger,
    signals: stopping,
  };
  const grpc: GrpcServer = createGrpcServer(SERVICES, FILES, mount);
  const http = createHttpServer({
    routes: (router) => {
      for (const s of SERVICES) addConnectService(router, s, mount);
    },
    ready: readinessOf(db),
    pages: flow.pages,
    metrics: metrics.registry,
    logger,
    signals: stopping,
  });
  return { grpc, http, stopping };
}

/** Runs `steps` in reverse, logging (not throwing) failures: used to undo a half-built app. */
async function unwind(steps: (() => Promise<void>)[], logger: Logger): Promise<void> {
  for (const step of [...steps].reverse()) {
    await step().catch((err: unknown) => logger.error({ err }, "cleanup after a failed start failed"));
  }
}

/**
 * The composition root: builds every part from the config, wires them and starts listening.
 * The only module that imports every layer; tests use it with port 0 and overrides. A start
 * that fails half way (a port in use, an unreachable database) releases what it had started.
 */
export async function buildApp(config: ServiceConfig, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const undo: (() => Promise<void>)[] = [];
  try {
    // Loaded only in sandbox mode: a deployment never even loads the emulator's code.
    const sandbox = config.sandbox.enabled
      ? await (await import("./sandbox.js")).startSandbox(config, logger)
      : undefined;
    if (sandbox) undo.push(() => sandbox.close());
    const apps = sandbox ? [...config.apps, sandbox.app] : config.apps;
    const callerKeys = sandbox ? [...config.callerKeys, sandbox.callerKey] : config.callerKeys;
    const db =
      overrides.db ??
      (await openDatabase({
        url: config.databaseUrl,
        dataDir: config.dataDir,
        migrate: config.migrateOnStart,
      }));
    if (!overrides.db) undo.push(() => db.close());
    await syncApps(db, apps);
    const encryptionKeys = sandbox?.encryptionKeys ?? config.encryptionKeys;
    const flow = buildFlow({ config, apps, encryptionKeys, db, logger, tuning: overrides.jobs });
    // Undone after the servers drain (calls in flight may still wake cards), before the database closes.
    undo.push(() => flow.close());
    const { grpc, http, stopping } = createServers(config, db, logger, callerKeys, flow);
    undo.push(() => stopping.drain(grpc, http));
    const grpcPort = await grpc.listen(config.bindHost, config.grpcPort);
    const httpPort = await listenHttp(http, config.bindHost, config.httpPort);
    // Jobs start after migrations (openDatabase ran them) and once the redirect URI is known.
    flow.start(publicUrlOf(config, httpPort));
    const appIds = apps.map((a) => a.appId);
    logger.info(
      { grpc_port: grpcPort, http_port: httpPort, database: db.mode, apps: appIds },
      "lark-auth-service listening",
    );
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        logger.info({ grace_ms: config.shutdownGraceMs }, "shutting down");
        await unwind(undo, logger);
        logger.info("stopped");
      })();
      return closing;
    };
    return { grpcPort, httpPort, apps, sandbox, logger, close };
  } catch (err) {
    await unwind(undo, logger);
    throw err;
  }
}
