import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DescFile } from "@bufbuild/protobuf";
import { AuthService, file_lark_auth_v1_auth_service } from "../gen/lark/auth/v1/auth_service_pb.js";
import { file_lark_auth_v1_token_service, TokenService } from "../gen/lark/auth/v1/token_service_pb.js";
import type { CallerKeyConfig, LarkAppConfig, ServiceConfig } from "./config/types.js";
import { createSealer } from "./crypto/seal.js";
import type { RefreshClaim } from "./domain/grants/grant.js";
import { createGrantCache } from "./domain/grants/grant-cache.js";
import {
  createGrantRefresher,
  DEFAULT_REFRESH_TIMINGS,
  type RefreshTimings,
} from "./domain/grants/refresh.js";
import { createTokenUseCases, type TokenUseCases } from "./domain/grants/token-service.js";
import { createPageTokens, type PageTokens } from "./domain/sessions/page-token.js";
import { createHttpServer } from "./http/server.js";
import { createGrantRefresherJob } from "./jobs/grant-refresher.js";
import { createLarkLimiters, LARK_LIMITS } from "./jobs/limits.js";
import { createShareLimiter, scaleWindows } from "./jobs/rate-limiter.js";
import { createJobRunner } from "./jobs/runner.js";
import { createLarkGateway } from "./lark/gateway.js";
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
import { createInProcessNotifier, createPgNotifier, type GrantNotifier } from "./store/grant-notifier.js";
import { createGrantStore } from "./store/grant-store.js";
import { createSessionStore } from "./store/session-store.js";
import { createTokenAuditWriter } from "./store/token-audit-store.js";
import { createLogger, type Logger } from "./telemetry/logger.js";
import { createMetrics } from "./telemetry/metrics.js";
import { getTracer } from "./telemetry/tracing.js";

/** Replaceable parts, for tests: an already open database, a logger. */
export interface AppOverrides {
  readonly db?: Database;
  readonly logger?: Logger;
  /** The URL of `db` when it is PostgreSQL: the grant cache LISTENs on a connection of its own. */
  readonly databaseUrl?: string;
  /** Refresh lease and upstream time-out (tests shorten them). */
  readonly refreshTimings?: Partial<RefreshTimings>;
  /** Test failpoint between Lark's answer and the commit (a throw = a crash there). */
  readonly afterRefreshAnswer?: (claim: RefreshClaim) => Promise<void> | void;
  /** Run the background refresher (default true). */
  readonly grantRefresher?: boolean;
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
  tokens: TokenUseCases,
): Map<(typeof SERVICES)[number]["methods"][number], ServiceHandlers[string]> {
  const byService = [
    [AuthService, createAuthServiceHandlers({ sessions: createSessionStore(db), pageTokens })],
    [TokenService, createTokenServiceHandlers(tokens)],
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
  tokens: TokenUseCases,
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
    pipeline: createPipeline(handlersFor(db, pageTokens, tokens), chain),
    logger,
    signals: stopping,
  };
  const grpc: GrpcServer = createGrpcServer(SERVICES, FILES, mount);
  const http = createHttpServer({
    routes: (router) => {
      for (const s of SERVICES) addConnectService(router, s, mount);
    },
    ready: readinessOf(db),
    metrics: metrics.registry,
    logger,
    signals: stopping,
  });
  return { grpc, http, stopping };
}

/**
 * The tokens part: sealed grant store, change signal (LISTEN/NOTIFY on PostgreSQL, in-process embedded),
 * cache, single-flight refresher, audit trail, background refresher. The integrator may move this.
 */
async function createGrants(p: {
  config: ServiceConfig;
  db: Database;
  logger: Logger;
  apps: readonly LarkAppConfig[];
  encryptionKeys: ServiceConfig["encryptionKeys"];
  overrides: AppOverrides;
}) {
  const { db, logger, overrides } = p;
  const url = overrides.db ? overrides.databaseUrl : p.config.databaseUrl;
  const changes: GrantNotifier =
    db.mode === "postgres" && url
      ? await createPgNotifier({
          url,
          onError: (err) => logger.warn({ err }, "grant change listener failed"),
        })
      : createInProcessNotifier();
  const sealer = createSealer(p.encryptionKeys);
  const store = createGrantStore(db, sealer, changes.publish);
  const lark = createLarkGateway({ apps: p.apps, logger });
  const clock = { now: () => new Date() };
  const instanceId = randomBytes(6).toString("hex");
  const refresher = createGrantRefresher({
    store,
    lark,
    changes,
    clock,
    instanceId,
    timings: overrides.refreshTimings,
    afterUpstreamAnswer: overrides.afterRefreshAnswer,
  });
  const audit = createTokenAuditWriter(db, {
    onError: (err, dropped) => logger.error({ err, dropped }, "token audit write failed"),
  });
  const cache = createGrantCache({ store, changes });
  const policy = { threshold: p.config.options.tokenRefreshThreshold };
  const tokens = createTokenUseCases({ store, changes, lark, clock, cache, refresher, policy, audit });
  const job = createGrantRefresherJob({
    store,
    refresher,
    // 80% of Lark's token-endpoint limits, drawn from the same budget as exchanges (benchmarks.md goal).
    limiter: createShareLimiter(createLarkLimiters().token, {
      windows: scaleWindows(LARK_LIMITS.perApp, 0.8),
    }),
    policy,
    logger,
    instanceId: `${instanceId}-job`,
    leaseMs: { ...DEFAULT_REFRESH_TIMINGS, ...overrides.refreshTimings }.leaseMs,
  });
  const runner = createJobRunner({ jobs: overrides.grantRefresher === false ? [] : [job], logger });
  runner.start();
  const close = async () => {
    await runner.stop(5000);
    cache.close();
    await audit.close();
    await changes.close();
  };
  return { tokens, close };
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
    const keys =
      sandbox && config.encryptionKeys.length === 0 ? sandbox.encryptionKeys : config.encryptionKeys;
    const grants = await createGrants({ config, db, logger, apps, encryptionKeys: keys, overrides });
    undo.push(grants.close);
    const { grpc, http, stopping } = createServers(config, db, logger, callerKeys, grants.tokens);
    undo.push(() => stopping.drain(grpc, http));
    const grpcPort = await grpc.listen(config.bindHost, config.grpcPort);
    const httpPort = await listenHttp(http, config.bindHost, config.httpPort);
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
