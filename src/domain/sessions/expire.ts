import type { AuthUnitOfWork, CardQueue, Clock } from "../ports.js";
import type { AuthSession } from "./session.js";
import { applyFinish, EXPIRED } from "./transitions.js";

/**
 * One sweep: claims up to `limit` pending sessions past their expiry (SKIP LOCKED, so replicas
 * sweeping together split the work instead of queueing), marks them EXPIRED with one event each in
 * one transaction, then wakes their cards. Returns the expired sessions; fewer than `limit` means
 * the backlog is empty.
 */
export async function expireDueSessions(
  deps: { readonly uow: AuthUnitOfWork; readonly clock: Clock; readonly cards: CardQueue },
  limit: number,
): Promise<readonly AuthSession[]> {
  const now = deps.clock.now();
  const expired = await deps.uow.run(async (tx) => {
    const due = await tx.claimExpired(now, limit);
    const done = [];
    for (const session of due) done.push(await applyFinish(tx, session, EXPIRED, now));
    // Events after every update: the event log's lock is then held only for the inserts.
    for (const { event } of done) await tx.appendEvent(event);
    return done.map((d) => d.session);
  });
  for (const s of expired) deps.cards.notify(s.appId, s.id);
  return expired;
}
