import type { EncryptionKey, LarkAppConfig, ServiceConfig } from "../config/types.js";
import { createFlowCrypto } from "../crypto/flow-crypto.js";
import { createSealer } from "../crypto/seal.js";
import type { Caller } from "../domain/callers.js";
import type { Clock, FlowLogger, LarkGateway } from "../domain/ports.js";
import { cancelSession } from "../domain/sessions/cancel.js";
import { completeRedirect } from "../domain/sessions/complete-redirect.js";
import { declineSession } from "../domain/sessions/decline.js";
import { declineByState } from "../domain/sessions/decline-by-state.js";
import { openAuthorization } from "../domain/sessions/open-authorization.js";
import type { AuthSession } from "../domain/sessions/session.js";
import {
  type StartAuthorizationInput,
  type StartAuthorizationResult,
  startAuthorization,
} from "../domain/sessions/start-authorization.js";
import { createAuthorizeRedirectRoute, OAUTH_AUTHORIZE_PREFIX } from "../http/authorize-redirect.js";
import { createOAuthCallbackRoute, OAUTH_CALLBACK_PATH } from "../http/oauth-callback.js";
import type { Route } from "../http/server.js";
import type { LarkLimiters } from "../jobs/limits.js";
import { createDeclineHandler } from "../lark/card-actions.js";
import type { CardActionHandler } from "../lark/card-callback.js";
import { sessionCards } from "../lark/cards/session-cards.js";
import type { LarkService } from "../lark/gateway.js";
import { type CommittedChanges, createAuthUnitOfWork } from "../store/auth-tx.js";
import type { Database } from "../store/database.js";
import type { Logger } from "../telemetry/logger.js";
import type { SessionMetrics } from "../telemetry/session-metrics.js";
import { createFlowJobs, type JobTuning } from "./jobs.js";
import { observedUnitOfWork, tracedCardActions, tracedPage } from "./observed.js";

/** What the AuthService handlers call: the flow's use cases, bound to their dependencies. */
export interface AuthFlow {
  start(caller: Caller, input: StartAuthorizationInput): Promise<StartAuthorizationResult>;
  cancel(caller: Caller, sessionId: string): Promise<AuthSession>;
  complete(caller: Caller, input: { readonly code: string; readonly state: string }): Promise<AuthSession>;
}

export interface Flow {
  readonly auth: AuthFlow;
  /** GET pages for the HTTP port: the OAuth callback and the redirector. */
  readonly pages: Readonly<Record<string, Route>>;
  /** What a card's callback button does (Decline), whichever transport Lark delivers the click over. */
  readonly onCardAction: CardActionHandler;
  /** Starts the jobs; `publicUrl` is where browsers reach the HTTP port. */
  start(publicUrl: string): void;
  /** Stops the jobs and the dispatcher (bounded); the database stays open. */
  close(): Promise<void>;
}

export interface FlowDeps {
  readonly config: ServiceConfig;
  /** Every configured app, the sandbox app included. */
  readonly apps: readonly LarkAppConfig[];
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly db: Database;
  readonly logger: Logger;
  /** The one Lark gateway of the process (one SDK client and tenant-token cache per app). */
  readonly gateway: LarkService;
  /** In-process wake-ups after a commit (event watchers, grant caches): see AuthUnitOfWorkDeps. */
  readonly afterCommit?: (committed: CommittedChanges) => void;
  readonly tuning?: JobTuning;
  /** Session counts and timings (telemetry/session-metrics.ts); spans need no wiring. */
  readonly metrics?: SessionMetrics;
  /** The process's limiters (flow/jobs.ts processLimiters), shared with the token refresher. */
  readonly limiters: LarkLimiters;
}

/**
 * Where browsers reach the HTTP port: LARK_AUTH_PUBLIC_URL, else the bound address (a wildcard bind
 * is advertised as localhost). The sandbox's default names the configured port, which is useless
 * when that port is 0 (tests): then the bound one is used.
 */
export function publicUrlOf(config: ServiceConfig, boundHttpPort: number): string {
  if (config.publicUrl && !config.publicUrl.endsWith(":0")) return config.publicUrl;
  const host = config.bindHost === "0.0.0.0" || config.bindHost === "::" ? "localhost" : config.bindHost;
  return `http://${host.includes(":") ? `[${host}]` : host}:${boundHttpPort}`;
}

/** How long shutdown waits for a job tick or a card in flight; their claims are leases, safe to abandon. */
const STOP_TIMEOUT_MS = 3000;

/**
 * The authorization flow's composition: one node-sdk gateway for every app, the sealer, the unit of
 * work, the card dispatcher and jobs, one card-action listener per app, the OAuth pages and the
 * use cases the RPC handlers call. Built before the servers listen; started once they do (the
 * redirect URI needs the bound port), closed before the database.
 */
export function buildFlow(deps: FlowDeps): Flow {
  const { config, apps, db, logger } = deps;
  let publicUrl: string | undefined;
  const base = () => {
    if (publicUrl === undefined) throw new Error("the flow was used before it was started");
    return publicUrl;
  };
  const clock: Clock = { now: () => new Date() };
  const sealer = createSealer(deps.encryptionKeys);
  const uow = observedUnitOfWork(createAuthUnitOfWork(db, { sealer, clock, afterCommit: deps.afterCommit }), {
    metrics: deps.metrics,
    clock,
  });
  const crypto = createFlowCrypto();
  const { gateway } = deps;
  const cards = sessionCards(apps);
  const log: FlowLogger = { error: (fields, message) => logger.error(fields, message) };
  const finish = { uow, lark: gateway, clock, log };
  const jobs = createFlowJobs({
    db,
    sealer,
    gateway,
    clock,
    logger,
    cards,
    finish,
    options: config.options,
    tuning: deps.tuning,
    limiters: deps.limiters,
  });
  // Code exchanges share the token endpoint's limit with device polls: a crowd consenting at once
  // is paced below Lark's limit instead of being answered 429 ("something went wrong").
  const lark: LarkGateway = {
    ...gateway,
    async exchangeCode(appId, request) {
      const done = await jobs.limiters.token.admit(appId);
      try {
        return await gateway.exchangeCode(appId, request);
      } finally {
        done();
      }
    },
  };
  const common = { ...finish, lark, crypto, cards: jobs.cards };
  // Getters: the redirect URI is known only once the HTTP port is bound.
  const redirect = {
    ...common,
    get redirectUri() {
      return `${base()}${OAUTH_CALLBACK_PATH}`;
    },
  };
  const flowApps = new Map(
    apps.map((a) => [
      a.appId,
      { appId: a.appId, flow: a.flow === "device" ? "DEVICE" : "REDIRECT" } as const,
    ]),
  );
  const startDeps = {
    ...common,
    apps: { find: (appId: string) => flowApps.get(appId) },
    policy: {
      sessionTtlMs: config.options.sessionTtlSeconds * 1000,
      startsPerMinute: config.options.rateLimitPerUserPerMinute,
      authorizeUrl: (id: string) => `${base()}${OAUTH_AUTHORIZE_PREFIX}${id}`,
    },
  };
  const pages = {
    [OAUTH_CALLBACK_PATH]: tracedPage(
      OAUTH_CALLBACK_PATH,
      createOAuthCallbackRoute({
        completeRedirect: (input) => completeRedirect(redirect, input),
        declineByState: (state) => declineByState(common, state),
        logger,
      }),
    ),
    [OAUTH_AUTHORIZE_PREFIX]: tracedPage(
      `${OAUTH_AUTHORIZE_PREFIX}{session_id}`,
      createAuthorizeRedirectRoute({
        openAuthorization: (id) => openAuthorization(redirect, id),
        logger,
      }),
    ),
  };
  const onCardAction = tracedCardActions(
    createDeclineHandler({
      decline: (input) => declineSession({ uow, clock }, input),
      resultCard: cards.buildResultCard,
    }),
  );
  return {
    auth: {
      start: (caller, input) => startAuthorization(startDeps, caller, input),
      cancel: (caller, id) => cancelSession(common, caller, id),
      complete: (caller, input) => completeRedirect(redirect, input, caller),
    },
    pages,
    onCardAction,
    start(url) {
      publicUrl = url;
      jobs.runner.start();
    },
    async close() {
      await jobs.runner.stop(STOP_TIMEOUT_MS);
      await jobs.dispatcher.close(STOP_TIMEOUT_MS);
    },
  };
}
