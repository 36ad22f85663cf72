import { parseCron } from "../config/cron.js";
import type { LarkAppConfig, ServiceConfig } from "../config/types.js";
import { nudgeReauthorizations } from "../domain/grants/nudge.js";
import type { TokenUseCases } from "../domain/grants/token-service.js";
import { syncUserInfo } from "../domain/grants/user-info-sync.js";
import type { AuthFlow } from "../flow/index.js";
import { createReauthNudgeJob, createUserInfoSyncJob } from "../jobs/grant-upkeep.js";
import { createJobRunner } from "../jobs/runner.js";
import type { Database } from "../store/database.js";
import { createIdentitySyncStore } from "../store/identity-sync-store.js";
import { createNudgeStore } from "../store/nudge-store.js";
import type { Logger } from "../telemetry/logger.js";

/** Job timings tests shorten, and the clock the sync's schedule is read by. */
export interface UpkeepTuning {
  readonly nudgeIntervalMs?: number;
  readonly syncIntervalMs?: number;
  readonly syncNow?: () => Date;
}

/**
 * The grants' upkeep jobs, built once the flow exists (a nudge is a StartAuthorization): re-authorization
 * nudges always (the event goes out for every app, the card only where the app asks for it), and the
 * user-info sync when a schedule is configured. Started with the flow, stopped before the database.
 */
export function createGrantUpkeep(p: {
  config: ServiceConfig;
  apps: readonly LarkAppConfig[];
  db: Database;
  logger: Logger;
  start: AuthFlow["start"];
  tokens: Pick<TokenUseCases, "getUserInfo">;
  tuning?: UpkeepTuning;
}) {
  const { config, db, logger } = p;
  const tuning = p.tuning ?? {};
  const nudge = createReauthNudgeJob({
    nudge: (limit) =>
      nudgeReauthorizations(
        {
          store: createNudgeStore(db),
          start: p.start,
          nudgingApps: new Set(p.apps.filter((a) => a.reauthorizationNudge).map((a) => a.appId)),
          marginMs: config.options.reauthorizationMarginMs,
          log: logger,
        },
        limit,
      ),
    logger,
    intervalMs: tuning.nudgeIntervalMs,
  });
  const cron = config.options.userInfoSyncCron;
  const sync =
    cron === undefined
      ? []
      : [
          createUserInfoSyncJob({
            schedule: parseCron(cron),
            sync: (occurrence, limit) =>
              syncUserInfo(
                { store: createIdentitySyncStore(db), refetch: p.tokens.getUserInfo, log: logger },
                occurrence,
                limit,
              ),
            logger,
            now: tuning.syncNow,
            intervalMs: tuning.syncIntervalMs,
          }),
        ];
  return createJobRunner({ jobs: [nudge, ...sync], logger });
}
