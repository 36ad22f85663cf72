import type { DevicePoll, DeviceWorkStore } from "../domain/jobs.js";
import type { Clock, LarkDevicePoll, LarkGateway } from "../domain/ports.js";
import { isTerminal, safeFailure } from "./card-work.js";
import type { RateLimiter } from "./rate-limiter.js";
import type { Job, JobLogger } from "./runner.js";

/** How a device session ended, for the domain to record: Lark's final answer, or a terminal Lark error. */
export type DeviceOutcome =
  | Extract<LarkDevicePoll, { status: "authorized" | "denied" | "expired" }>
  | { readonly status: "failed"; readonly reason: "LARK_ERROR"; readonly message: string };

export type DevicePollGateway = Pick<LarkGateway, "pollDeviceToken">;

/**
 * The domain's complete-device use case: tokens -> user check, grant, AUTHORIZED; denied ->
 * DECLINED; expired -> FAILED DEVICE_CODE_EXPIRED; failed -> FAILED with the reason. Ends the
 * session (so it is never polled again) and notifies the card.
 */
export type CompleteDevice = (sessionId: string, outcome: DeviceOutcome) => Promise<void>;

export interface DevicePollerOptions {
  /** Default 1 s: polls are due at their own interval; this is only how often due ones are looked for. */
  readonly tickMs?: number;
  /** Sessions claimed per tick (default 50); they then wait for the poll share of the limiter. */
  readonly batchSize?: number;
  /** How long a claim holds a session (default 60 s). */
  readonly leaseMs?: number;
}

export interface DevicePollerDeps {
  readonly store: DeviceWorkStore;
  readonly gateway: DevicePollGateway;
  /** The device-poll share of the token endpoint budget (LarkLimiters.devicePoll), keyed by app id. */
  readonly limiter: RateLimiter;
  readonly complete: CompleteDevice;
  readonly clock: Clock;
  readonly logger: JobLogger;
  readonly options?: DevicePollerOptions;
}

/** RFC 8628 §3.5: each slow_down adds 5 seconds to the polling interval, for good. */
const SLOW_DOWN_SECONDS = 5;

/**
 * The device poller job: claims device sessions whose next poll is due (a lease, SKIP LOCKED, so
 * each is polled by one replica), polls within the app's poll share of the token endpoint budget,
 * honours `interval` and `slow_down`, and hands final answers to the domain. Transient errors just
 * poll again at the interval; a terminal Lark error fails the session (LARK_ERROR).
 */
export function createDevicePoller(deps: DevicePollerDeps): Job {
  const o = deps.options ?? {};
  const later = (seconds: number) => new Date(deps.clock.now().getTime() + seconds * 1000);

  const pollOne = async (poll: DevicePoll, signal: AbortSignal): Promise<void> => {
    const { sessionId, appId } = poll;
    let interval = poll.intervalSeconds;
    try {
      await deps.limiter.acquire(appId, { signal });
      const result = await deps.gateway.pollDeviceToken(appId, poll.deviceCode);
      if (result.status === "pending" || result.status === "slow_down") {
        if (result.status === "slow_down") interval += SLOW_DOWN_SECONDS;
        return await deps.store.schedulePoll(sessionId, later(interval), interval);
      }
      await deps.complete(sessionId, result);
    } catch (err) {
      // Stopping: the lease lapses and the next owner polls.
      if (signal.aborted) return;
      deps.logger.warn({ err, sessionId, appId }, "device poll failed");
      await recover(poll, interval, err);
    }
  };

  const recover = async (poll: DevicePoll, interval: number, err: unknown): Promise<void> => {
    try {
      if (isTerminal(err)) {
        await deps.complete(poll.sessionId, {
          status: "failed",
          reason: "LARK_ERROR",
          message: safeFailure(err),
        });
      } else {
        await deps.store.schedulePoll(poll.sessionId, later(interval), interval);
      }
    } catch (again) {
      deps.logger.error(
        { err: again, sessionId: poll.sessionId },
        "recording a device poll failed; the lease will lapse",
      );
    }
  };

  return {
    name: "device-poller",
    intervalMs: o.tickMs ?? 1000,
    async run(signal) {
      const due = await deps.store.claimDuePolls(deps.clock.now(), o.leaseMs ?? 60_000, o.batchSize ?? 50);
      await Promise.all(due.map((poll) => pollOne(poll, signal)));
    },
  };
}
