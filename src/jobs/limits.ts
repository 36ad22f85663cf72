import type { TimerClock } from "./clock.js";
import {
  createRateLimiter,
  createShareLimiter,
  type RateLimiter,
  type RateWindow,
  scaleWindows,
} from "./rate-limiter.js";

/**
 * Lark's documented limits (reference §5, §9): per app and API 50/s and 1000/min (message create,
 * message patch, the token endpoint alike), and 5 messages per second to one user.
 */
export const LARK_LIMITS = {
  perApp: [
    { limit: 50, windowMs: 1000 },
    { limit: 1000, windowMs: 60_000 },
  ],
  messagesPerUser: [{ limit: 5, windowMs: 1000 }],
} as const satisfies Record<string, readonly RateWindow[]>;

/** How much of Lark's budget this process uses. */
export interface LimitOptions {
  /**
   * Fraction of each documented limit this process may use (default 0.9: headroom for clock skew
   * and other clients of the same app). With N replicas sharing an app, pass 0.9 / N.
   */
  readonly headroom?: number;
  /** Fraction of the token endpoint budget device polling may use (default 0.3). */
  readonly deviceShare?: number;
  /** The platform's per-app windows, when they differ from Lark's documented ones (a private deployment). */
  readonly perApp?: readonly RateWindow[];
  readonly clock?: TimerClock;
}

/** The limiters the jobs draw from; keys are built with the helpers below. */
export interface LarkLimiters {
  /** Message create and patch, keyed by `messageKey(appId, api)`. */
  readonly messages: RateLimiter;
  /** Messages to one user, keyed by `userKey(appId, receiverId)`. */
  readonly perUser: RateLimiter;
  /** The token endpoint (code exchange, refresh, device polls), keyed by app id. */
  readonly token: RateLimiter;
  /** Device polls: a share of `token` (same keys), so polls never starve exchanges and refreshes. */
  readonly devicePoll: RateLimiter;
}

/**
 * Builds the per-process limiters below Lark's documented limits. One instance per process: the
 * limiters count only this process's calls.
 */
export function createLarkLimiters(options: LimitOptions = {}): LarkLimiters {
  const headroom = options.headroom ?? 0.9;
  const clock = options.clock;
  const perApp = scaleWindows(options.perApp ?? LARK_LIMITS.perApp, headroom);
  const token = createRateLimiter({ windows: perApp, clock });
  return {
    messages: createRateLimiter({ windows: perApp, clock }),
    perUser: createRateLimiter({ windows: scaleWindows(LARK_LIMITS.messagesPerUser, headroom), clock }),
    token,
    devicePoll: createShareLimiter(token, {
      windows: scaleWindows(perApp, options.deviceShare ?? 0.3),
      clock,
    }),
  };
}

/** Lark counts each API separately per app: message create and patch have budgets of their own. */
export function messageKey(appId: string, api: "create" | "patch"): string {
  return `${appId}\n${api}`;
}

/** The per-user message budget is per app and recipient. */
export function userKey(appId: string, receiverId: string): string {
  return `${appId}\n${receiverId}`;
}
