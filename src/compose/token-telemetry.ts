import type { GrantStore } from "../domain/grants/grant.js";
import type { GrantCache } from "../domain/grants/grant-cache.js";
import type { GrantRefresher } from "../domain/grants/refresh.js";
import { classifyRefreshFailure } from "../domain/grants/refresh-outcome.js";
import { isLarkError } from "../domain/lark-error.js";
import type { LarkGateway } from "../domain/ports.js";
import type { TokenMetrics } from "../telemetry/token-metrics.js";

/**
 * Instruments the tokens part at its ports, leaving the domain untouched: refreshes are counted
 * where they reach Lark (one count per upstream call, however many callers share the flight),
 * reads where the cache answers or falls through to the store.
 */
export function observedRefreshLark(
  lark: Pick<LarkGateway, "refreshToken">,
  metrics: TokenMetrics,
): Pick<LarkGateway, "refreshToken"> {
  return {
    async refreshToken(appId, refreshToken) {
      try {
        const tokens = await lark.refreshToken(appId, refreshToken);
        metrics.refreshed(appId, "ok");
        return tokens;
      } catch (err) {
        metrics.refreshed(appId, isLarkError(err) ? classifyRefreshFailure(err) : "error");
        throw err;
      }
    },
  };
}

/** Refreshes started through `refreshClaimed` come from the background refresher's batches. */
export function observedRefresher(refresher: GrantRefresher, metrics: TokenMetrics): GrantRefresher {
  return {
    refresh: (seen, waitMs) => metrics.triggeredBy("caller", () => refresher.refresh(seen, waitMs)),
    refreshClaimed: (claim) => metrics.triggeredBy("background", () => refresher.refreshClaimed(claim)),
  };
}

/** The store as the cache sees it: each call is a read the cache could not answer. */
export function countedStoreReads(
  store: Pick<GrantStore, "find">,
  metrics: TokenMetrics,
): Pick<GrantStore, "find"> {
  return {
    find: (appId, user) => {
      metrics.reads(appId).database++;
      return store.find(appId, user);
    },
  };
}

/** The cache with every read counted. */
export function countedCache(cache: GrantCache, metrics: TokenMetrics): GrantCache {
  return {
    get: (appId, user) => {
      metrics.reads(appId).all++;
      return cache.get(appId, user);
    },
    close: () => cache.close(),
  };
}

/** The wrappers above bound to `metrics`, or the identity when the tokens part is built without them. */
export function tokenObservers(metrics: TokenMetrics | undefined) {
  return {
    lark: <L extends Pick<LarkGateway, "refreshToken">>(lark: L): L =>
      metrics ? { ...lark, ...observedRefreshLark(lark, metrics) } : lark,
    refresher: (r: GrantRefresher) => (metrics ? observedRefresher(r, metrics) : r),
    store: <S extends Pick<GrantStore, "find">>(s: S): Pick<GrantStore, "find"> =>
      metrics ? countedStoreReads(s, metrics) : s,
    cache: (c: GrantCache) => (metrics ? countedCache(c, metrics) : c),
  };
}
