import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DescFile, DescMethod } from "@bufbuild/protobuf";
import { AuthService, file_lark_auth_v1_auth_service } from "../gen/lark/auth/v1/auth_service_pb.js";
import { file_lark_auth_v1_token_service, TokenService } from "../gen/lark/auth/v1/token_service_pb.js";
import { createGrantUpkeep, type UpkeepTuning } from "./compose/grant-upkeep.js";
import { createPolicedGateway } from "./compose/lark.js";
import { createLarkEvents, type LarkEvents } from "./compose/lark-events.js";
import { createGrants, type TokenOverrides } from "./compose/tokens.js";
import type { CallerKeyConfig, LarkAppConfig, ServiceConfig } from "./config/types.js";
import { derivePageTokenKey } from "./crypto/page-token-key.js";
import type { TokenUseCases } from "./domain/grants/token-service.js";
import { createPageTokens, type PageTokens } from "./domain/sessions/page-token.js";
import { createEventHub, type EventHub, type EventHubOptions } from "./events/hub.js";
import { pgWakeups } from "./events/pg-wakeup.js";
import { buildFlow, type Flow, publicUrlOf } from "./flow/index.js";
import { type JobTuning, processLimiters } from "./flow/jobs.js";
import { createEventsWebSocket } from "./http/events-websocket.js";
import { createLarkWebhookRoute, LARK_EVENTS_PATH } from "./http/lark-webhook.js";
import { OAUTH_CALLBACK_PATH } from "./http/oauth-callback.js";
import { createHttpServer } from "./http/server.js";
import { connectRequestGate } from "./rpc/connect-gate.js";
import { addConnectService } from "./rpc/connect-mount.js";
import { createGrpcServer, type GrpcServer } from "./rpc/grpc-server.js";
import { authenticateInterceptor, authorizeInterceptor } from "./rpc/interceptors/auth.js";
import { refusalTelemetry, telemetryInterceptor } from "./rpc/interceptors/telemetry.js";
import { validateInterceptor } from "./rpc/interceptors/validate.js";
import { type AnyHandler, bindService, createPipeline } from "./rpc/pipeline.js";
import { createAuthServiceHandlers } from "./rpc/services/auth-service.js";
import { createTokenServiceHandlers } from "./rpc/services/token-service.js";
import type { Sandbox } from "./sandbox.js";
import { createShutdownController, withinLimit } from "./shutdown.js";
import { syncApps } from "./store/apps.js";
import { type Database, openDatabase } from "./store/database.js";
import { createEventInbox } from "./store/event-inbox.js";
import { createEventLogReader } from "./store/event-log.js";
import { assertKeysCover } from "./store/key-check.js";
import { createMetricCounts } from "./store/metric-counts.js";
import { createSessionStore } from "./store/session-store.js";
import { createLogger, type Logger } from "./telemetry/logger.js";
import { createMetrics } from "./telemetry/metrics.js";
import { createSessionMetrics } from "./telemetry/session-metrics.js";
import { createTokenMetrics } from "./telemetry/token-metrics.js";
import { getTracer } from "./telemetry/tracing.js";

type Metrics = ReturnType<typeof createMetrics>;

/** Replaceable parts, for tests: an already open database, a logger. */
export interface AppOverrides extends TokenOverrides {
  readonly db?: Database;
  readonly logger?: Logger;
  /** Event hub tuning (poll, bookmark interval, watcher buffer), for tests and the benchmark. */
  readonly events?: EventHubOptions;
  /** Shorter job intervals, for tests. */
  readonly jobs?: JobTuning;
  /** Re-authorization nudge and user-info sync timings, for tests. */
  readonly upkeep?: UpkeepTuning;
  /** The events WebSocket's ping interval in ms (default 30 s), for tests. */
  readonly websocketPingMs?: number;
}

/** A running service: its bound ports and one way to stop it. */
export interface App {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly apps: readonly LarkAppConfig[];
  readonly sandbox?: Sandbox;
  readonly logger: Logger;
  /** The event hub; writers on the embedded database call `events.notifyEventsCommitted()` after a commit. */
  readonly events: EventHub;
  /** Graceful: stop accepting, drain in-flight calls up to the grace period, end streams, close the database. */
  close(): Promise<void>;
}

const SERVICES = [AuthService, TokenService] as const;

/** What the servers are built from, besides the config, the database and the logger. */
interface ServiceParts {
  readonly larkEvents: LarkEvents;
  readonly callerKeys: readonly CallerKeyConfig[];
  readonly pageTokens: PageTokens;
  readonly tokens: TokenUseCases;
  readonly events: EventHub;
  readonly flow: Flow;
  readonly metrics: Metrics;
}
const FILES: DescFile[] = [file_lark_auth_v1_auth_service, file_lark_auth_v1_token_service];

function handlersFor(db: Database, parts: ServiceParts): Map<DescMethod, AnyHandler> {
  const { pageTokens, tokens, events, flow, metrics } = parts;
  return new Map([
    ...bindService(
      AuthService,
      createAuthServiceHandlers({
        sessions: createSessionStore(db),
        pageTokens,
        events,
        flow: flow.auth,
        eventMetrics: metrics.events,
      }),
    ),
    ...bindService(TokenService, createTokenServiceHandlers(tokens)),
  ]);
}

function listenHttp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Ready = the database answers and every migration is applied. Lark's state per app is a detail: an
 * outage of Lark degrades the service (no card clicks), it does not take replicas out of rotation.
 */
function readinessOf(db: Database, lark: () => Record<string, string>) {
  return async () => {
    const reachable = await db.ping();
    const pending = reachable ? await db.migrationsPending().catch(() => -1) : -1;
    const checks = {
      database: reachable ? "ok" : "unreachable",
      migrations: pending === 0 ? "ok" : "pending",
      lark: lark(),
    };
    return { ready: reachable && pending === 0, checks };
  };
}

/** Both transports around one pipeline, sharing the shutdown signals; not listening yet. */
function createServers(
  config: ServiceConfig,
  db: Database,
  logger: Logger,
  parts: ServiceParts,
  pingIntervalMs?: number,
) {
  const stopping = createShutdownController(config.shutdownGraceMs);
  const { metrics } = parts;
  // Who is calling, then is the request well-formed, then may they: nothing a caller sent is
  // echoed (in a denial, a log line) before validation has bounded it.
  const authenticate = authenticateInterceptor(() => parts.callerKeys);
  const chain = [
    telemetryInterceptor(getTracer(), metrics.rpc, logger),
    authenticate,
    validateInterceptor,
    authorizeInterceptor,
  ];
  const mount = {
    pipeline: createPipeline(handlersFor(db, parts), chain),
    logger,
    signals: stopping,
    refused: metrics.refused,
  };
  const grpc: GrpcServer = createGrpcServer(SERVICES, FILES, mount);
  const websocket = createEventsWebSocket({ ...mount, pingIntervalMs });
  // On the HTTP port the caller is authenticated before connect-node reads the body.
  const checks = [refusalTelemetry(getTracer(), metrics.rpc), authenticate];
  const http = createHttpServer({
    requestGate: connectRequestGate({ checks, logger, signals: stopping, refused: metrics.refused }),
    refused: metrics.refused,
    routes: (router) => {
      for (const s of SERVICES) addConnectService(router, s, mount);
    },
    ready: readinessOf(db, parts.larkEvents.states),
    pages: parts.flow.pages,
    posts: { [LARK_EVENTS_PATH]: createLarkWebhookRoute(parts.larkEvents.receive) },
    metrics: metrics.registry,
    logger,
    signals: stopping,
    upgrade: websocket.handleUpgrade,
  });
  return { grpc, http, stopping, websocket };
}

/**
 * The process's one event log reader: woken by LISTEN on a dedicated connection on PostgreSQL; on
 * the embedded database (no NOTIFY across its connections) by writers' `notifyEventsCommitted()`
 * and a shorter poll.
 */
async function startEventHub(
  db: Database,
  logger: Logger,
  metrics: Metrics,
  options: EventHubOptions = {},
): Promise<EventHub> {
  const postgres = db.mode === "postgres";
  const hub = createEventHub({
    log: createEventLogReader(db),
    logger,
    deliveryLag: metrics.events.deliveryLag,
    wakeups: postgres ? pgWakeups(db.orm.config.get("clientUrl") as string, logger) : undefined,
    options: { pollIntervalMs: postgres ? 1000 : 500, ...options },
  });
  await hub.start();
  return hub;
}

/**
 * How long closing every part together (jobs, audit trail, database, sandbox) may take once the
 * servers have drained: a transaction held open must not keep the process alive past the grace
 * period plus this.
 */
const CLOSE_LIMIT_MS = 5_000;

/** Something built that must be closed again, by a deadline (epoch ms) it is given. */
interface Part {
  readonly what: string;
  close(deadline: number): Promise<void>;
}

/**
 * Closes `parts` in reverse order, all of them within CLOSE_LIMIT_MS: each gets an even share of
 * the time left, so one that hangs (a write waiting on a lock held elsewhere) neither keeps the
 * process alive nor starves the parts after it. Failures are logged, not thrown: this also undoes a
 * half-built app.
 */
async function unwind(parts: readonly Part[], logger: Logger): Promise<void> {
  const end = Date.now() + CLOSE_LIMIT_MS;
  const order = [...parts].reverse();
  for (const [i, part] of order.entries()) {
    const deadline = Date.now() + Math.max(0, (end - Date.now()) / (order.length - i));
    // A close that settles after we stopped waiting must not surface as an unhandled rejection.
    const closing = part
      .close(deadline)
      .catch((err: unknown) => logger.error({ err, part: part.what }, "closing failed"));
    if ((await withinLimit(closing, Math.max(0, deadline - Date.now()))) === "timed out")
      logger.warn({ part: part.what, limit_ms: CLOSE_LIMIT_MS }, "closing took too long; left behind");
  }
}

/**
 * The composition root: builds every part from the config, wires them and starts listening.
 * The only module that imports every layer; tests use it with port 0 and overrides. A start
 * that fails half way (a port in use, an unreachable database) releases what it had started.
 */
export async function buildApp(config: ServiceConfig, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const parts: Part[] = [];
  // Bounded by the grace period itself; the parts' budget starts once it is over.
  let drain = async () => {};
  try {
    // Loaded only in sandbox mode: a deployment never even loads the emulator's code.
    const sandbox = config.sandbox.enabled
      ? await (await import("./sandbox.js")).startSandbox(config, logger)
      : undefined;
    if (sandbox) parts.push({ what: "sandbox", close: () => sandbox.close() });
    const apps = sandbox ? [...config.apps, sandbox.app] : config.apps;
    const callerKeys = sandbox ? [...config.callerKeys, sandbox.callerKey] : config.callerKeys;
    const db =
      overrides.db ??
      (await openDatabase({
        url: config.databaseUrl,
        dataDir: config.dataDir,
        migrate: config.migrateOnStart,
      }));
    if (!overrides.db)
      parts.push({ what: "database", close: (by) => db.close(Math.max(0, by - Date.now())) });
    await syncApps(db, apps);
    const keys = sandbox?.encryptionKeys ?? config.encryptionKeys;
    const signingKey = keys[0];
    if (!signingKey) throw new Error("no encryption key: set LARK_AUTH_ENCRYPTION_KEYS");
    // A key dropped too early would only surface when a user's token is needed: refuse to start instead.
    await assertKeysCover(db, keys);
    // Derived from the shared sealing key, so every replica honours the page tokens of the others.
    const pageTokens = createPageTokens(derivePageTokenKey(signingKey.key));
    const { gateway, metrics: larkCalls } = createPolicedGateway(config, apps, logger);
    const metrics = createMetrics();
    larkCalls.register(metrics.registry);
    const counts = createMetricCounts(db);
    const onScrapeError = (err: unknown) => logger.warn({ err }, "metrics: database count failed");
    const tokenMetrics = createTokenMetrics(metrics.registry, {
      grants: counts.grants,
      onError: onScrapeError,
    });
    const sessionMetrics = createSessionMetrics(metrics.registry, {
      appIds: apps.map((a) => a.appId),
      pending: counts.pendingSessions,
      onError: onScrapeError,
    });
    const limiters = processLimiters(config.options);
    const grants = await createGrants({
      config,
      tokenLimiter: limiters.token,
      db,
      logger,
      lark: gateway,
      encryptionKeys: keys,
      overrides,
      metrics: tokenMetrics,
    });
    parts.push({ what: "tokens", close: grants.close });
    const events = await startEventHub(db, logger, metrics, overrides.events);
    parts.push({ what: "events", close: () => events.close() });
    const flow = buildFlow({
      config,
      apps,
      encryptionKeys: keys,
      db,
      logger,
      gateway,
      tuning: overrides.jobs,
      metrics: sessionMetrics,
      limiters,
      afterCommit: (committed) => {
        if (committed.events > 0) events.notifyEventsCommitted();
        for (const grant of committed.grants) grants.changes.publish(grant);
      },
    });
    // Closed after the servers drain (calls in flight may still wake cards), before the database.
    parts.push({ what: "flow", close: () => flow.close() });
    const upkeep = createGrantUpkeep({
      config,
      apps,
      db,
      logger,
      start: flow.auth.start,
      tokens: grants.tokens,
      tuning: overrides.upkeep,
    });
    // Nudges start authorizations: stopped before the flow's dispatcher that sends their cards.
    parts.push({ what: "grant upkeep", close: async (by) => void (await upkeep.stop(by - Date.now())) });
    const larkEvents = createLarkEvents({
      apps,
      gateway,
      inbox: createEventInbox(db),
      onCardAction: flow.onCardAction,
      options: config.options.larkEvents,
      logger,
    });
    larkEvents.metrics.register(metrics.registry);
    // Closed with the flow, before the database: a click in flight still finds it.
    parts.push({ what: "lark events", close: async () => larkEvents.close() });
    const serviceParts = { larkEvents, callerKeys, pageTokens, tokens: grants.tokens, events, flow, metrics };
    const { grpc, http, stopping, websocket } = createServers(
      config,
      db,
      logger,
      serviceParts,
      overrides.websocketPingMs,
    );
    parts.push({ what: "events websocket", close: async () => websocket.close() });
    drain = () => stopping.drain(grpc, http);
    const grpcPort = await grpc.listen(config.bindHost, config.grpcPort);
    const httpPort = await listenHttp(http, config.bindHost, config.httpPort);
    const readiness = readinessOf(db, larkEvents.states);
    grpc.followReadiness(async () => (await readiness()).ready);
    // Jobs start after migrations (openDatabase ran them) and once the redirect URI is known.
    const publicUrl = publicUrlOf(config, httpPort);
    sandbox?.setRedirectUrl(`${publicUrl}${OAUTH_CALLBACK_PATH}`);
    flow.start(publicUrl);
    upkeep.start();
    larkEvents.start();
    if (callerKeys.length === 0)
      logger.warn(
        "no caller keys are configured: every RPC will be refused UNAUTHENTICATED (set LARK_AUTH_CALLER_KEYS or caller_keys in LARK_AUTH_CONFIG)",
      );
    const appIds = apps.map((a) => a.appId);
    logger.info(
      { grpc_port: grpcPort, http_port: httpPort, database: db.mode, apps: appIds },
      "lark-auth-service listening",
    );
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        logger.info({ grace_ms: config.shutdownGraceMs }, "shutting down");
        await drain();
        await unwind(parts, logger);
        logger.info("stopped");
      })();
      return closing;
    };
    return { grpcPort, httpPort, apps, sandbox, logger, events, close };
  } catch (err) {
    await drain().catch((e: unknown) => logger.error({ err: e }, "cleanup after a failed start failed"));
    await unwind(parts, logger);
    throw err;
  }
}
