import type { CardQueue, Clock, LarkGateway } from "../domain/ports.js";
import { completeDevice } from "../domain/sessions/complete-device.js";
import { expireDueSessions } from "../domain/sessions/expire.js";
import { endPending, type FinishDeps } from "../domain/sessions/finish-with-tokens.js";
import { type CardDispatcher, createCardDispatcher } from "../jobs/card-dispatcher.js";
import type { BuildCard, BuildResultCard } from "../jobs/card-work.js";
import { createDevicePoller, type DeviceOutcome } from "../jobs/device-poller.js";
import { createEventPruner } from "../jobs/event-pruner.js";
import { createLarkLimiters, type LarkLimiters } from "../jobs/limits.js";
import { createJobRunner, type JobRunner } from "../jobs/runner.js";
import { createSessionSweeper } from "../jobs/session-sweeper.js";
import { createCardWorkStore } from "../store/card-work-store.js";
import type { Database } from "../store/database.js";
import { createDeviceWorkStore } from "../store/device-work-store.js";
import { createEventInbox } from "../store/event-inbox.js";
import { createRetentionStore } from "../store/retention-store.js";
import type { Sealer } from "../store/sealer.js";
import type { Logger } from "../telemetry/logger.js";

/** Job timings; the defaults suit production, tests shorten them. */
export interface JobTuning {
  /** How often pending sessions past their expiry are looked for (default 5 s). */
  readonly expireIntervalMs?: number;
  /** How often the card dispatcher's recovery sweep runs (default 5 s). */
  readonly cardSweepIntervalMs?: number;
  /** How often due device polls are looked for (default 1 s). */
  readonly devicePollTickMs?: number;
}

export interface FlowJobsDeps {
  readonly db: Database;
  readonly sealer: Sealer;
  readonly gateway: LarkGateway;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly cards: { readonly buildCard: BuildCard; readonly buildResultCard: BuildResultCard };
  /** The finish deps minus the card queue, which is the dispatcher built here. */
  readonly finish: Omit<FinishDeps, "cards">;
  readonly options: {
    readonly retentionDays: number;
    readonly eventRetentionHours: number;
    readonly larkLimitHeadroom: number;
    readonly larkRateLimitPerSecond: number;
    readonly larkRateLimitPerMinute: number;
    readonly devicePollShare: number;
    readonly larkEvents: { readonly dedupHours: number };
  };
  readonly tuning?: JobTuning;
  /** This process's share of Lark's limits (processLimiters), shared with the token refresher. */
  readonly limiters: LarkLimiters;
}

/**
 * One set of limiters per process, from the configured limits and headroom: each counts this
 * replica's calls against its share of Lark's limits. Everything calling the token endpoint (code
 * exchanges, device polls, the background refresher) draws from the one `token` limiter.
 */
export function processLimiters(options: FlowJobsDeps["options"]): LarkLimiters {
  return createLarkLimiters({
    headroom: options.larkLimitHeadroom,
    deviceShare: options.devicePollShare,
    perApp: [
      { limit: options.larkRateLimitPerSecond, windowMs: 1000 },
      { limit: options.larkRateLimitPerMinute, windowMs: 60_000 },
    ],
  });
}

/** The background work of the flow: the card dispatcher (the domain's CardQueue) and the runner. */
export interface FlowJobs {
  readonly cards: CardQueue;
  readonly dispatcher: CardDispatcher;
  readonly runner: JobRunner;
  /** This process's share of Lark's limits, for the flow's own calls (code exchanges). */
  readonly limiters: LarkLimiters;
}

/**
 * Builds the dispatcher, sweeper and device poller under one runner (not started). Their stores use
 * the background lane (its own pool): a burst of StartAuthorization calls fills the main pool, and
 * card delivery must go on meanwhile, not queue behind all of them.
 */
export function createFlowJobs(deps: FlowJobsDeps): FlowJobs {
  const { db, sealer, gateway, clock, logger, options } = deps;
  const tuning = deps.tuning ?? {};
  const { limiters } = deps;
  const dispatcher = createCardDispatcher({
    store: createCardWorkStore(db.background, sealer),
    gateway,
    limiters,
    ...deps.cards,
    clock,
    logger,
    // Cards in flight per app: enough to hide Lark's latency behind the limiter, which sets the pace.
    options: {
      concurrencyPerApp: 32,
      ...(tuning.cardSweepIntervalMs && { sweepIntervalMs: tuning.cardSweepIntervalMs }),
    },
  });
  const finish: FinishDeps = { ...deps.finish, cards: dispatcher };
  const sweeper = createSessionSweeper({
    expire: async (limit) => (await expireDueSessions(finish, limit)).length,
    retention: createRetentionStore(db.background),
    clock,
    logger,
    options: {
      retentionMs: options.retentionDays * 24 * 3600 * 1000,
      ...(tuning.expireIntervalMs && { expireIntervalMs: tuning.expireIntervalMs }),
    },
  });
  const poller = createDevicePoller({
    store: createDeviceWorkStore(db.background, sealer),
    gateway,
    limiter: limiters.devicePoll,
    complete: async (id, outcome) => void (await recordDeviceOutcome(finish, id, outcome)),
    clock,
    logger,
    options: { ...(tuning.devicePollTickMs && { tickMs: tuning.devicePollTickMs }) },
  });
  const events = createEventPruner({
    prune: createRetentionStore(db.background).pruneEvents,
    clock,
    logger,
    options: { retentionMs: options.eventRetentionHours * 3600 * 1000 },
  });
  // Lark redelivers for hours at most: its event ids are remembered that long, then forgotten.
  const inbox = createEventPruner({
    prune: createEventInbox(db).prune,
    clock,
    logger,
    options: { name: "lark-inbox-retention", retentionMs: options.larkEvents.dedupHours * 3600 * 1000 },
  });
  const runner = createJobRunner({
    jobs: [dispatcher.job, sweeper.expiry, sweeper.retention, events, inbox, poller],
    logger,
  });
  return { cards: dispatcher, dispatcher, runner, limiters };
}

/** A terminal Lark error ends the session FAILED; Lark's own answers go to the complete-device use case. */
function recordDeviceOutcome(finish: FinishDeps, sessionId: string, outcome: DeviceOutcome) {
  if (outcome.status === "failed") {
    return endPending(finish, sessionId, {
      state: "FAILED",
      reason: outcome.reason,
      message: outcome.message,
    });
  }
  return completeDevice(finish, sessionId, outcome);
}
