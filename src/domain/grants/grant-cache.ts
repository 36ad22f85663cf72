import type { UserRef } from "../users.js";
import type { GrantChanges, GrantStore, StoredGrant } from "./grant.js";

/** Reads grants through an in-process cache that every grant change invalidates. */
export interface GrantCache {
  get(appId: string, user: UserRef): Promise<StoredGrant | undefined>;
  /** Stops listening for changes. */
  close(): void;
}

const keyOf = (appId: string, user: UserRef) => `${appId}\u0000${user.kind}\u0000${user.value}`;
const rowOf = (appId: string, openId: string) => `${appId}\u0000${openId}`;

/**
 * The hot path of GetUserAccessToken. Correctness rules:
 * - Entries are dropped on every change signal for their row (all replicas get it: NOTIFY on PostgreSQL,
 *   in-process on PGlite), and everything is dropped when the signal may have missed changes.
 * - Nothing is cached or served from cache while the signal is not live: no signal, no cache.
 * - A load that raced with a change is not cached (generation check), so a stale row never lands after
 *   the invalidation that should have removed it.
 * Misses are not cached: a grant that appears is read on the next call.
 */
export function createGrantCache(deps: {
  store: Pick<GrantStore, "find">;
  changes: GrantChanges;
  /** Entries kept before the cache starts over (default 50,000); 0 turns caching off. */
  maxEntries?: number;
}): GrantCache {
  const maxEntries = deps.maxEntries ?? 50_000;
  const entries = new Map<string, StoredGrant>();
  const byRow = new Map<string, Set<string>>();
  let generation = 0;

  const clear = () => {
    generation++;
    entries.clear();
    byRow.clear();
  };
  const unsubscribe = deps.changes.subscribe((change) => {
    if (change === "all") return clear();
    generation++;
    const row = rowOf(change.appId, change.openId);
    for (const key of byRow.get(row) ?? []) entries.delete(key);
    byRow.delete(row);
  });

  const put = (key: string, grant: StoredGrant) => {
    // Crude bound: a full cache starts over rather than tracking recency on the hot path.
    if (entries.size >= maxEntries) clear();
    entries.set(key, grant);
    const row = rowOf(grant.appId, grant.identity.openId);
    const keys = byRow.get(row) ?? new Set<string>();
    keys.add(key);
    byRow.set(row, keys);
  };

  return {
    async get(appId, user) {
      if (maxEntries === 0) return deps.store.find(appId, user);
      const key = keyOf(appId, user);
      const live = deps.changes.live();
      if (live) {
        const hit = entries.get(key);
        if (hit) return hit;
      }
      const before = generation;
      const grant = await deps.store.find(appId, user);
      if (grant && live && deps.changes.live() && generation === before) put(key, grant);
      return grant;
    },
    close: unsubscribe,
  };
}
