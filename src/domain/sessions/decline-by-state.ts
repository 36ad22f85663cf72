import type { AuthUnitOfWork, CardQueue, Clock, FlowCrypto } from "../ports.js";
import { consumeStateOrThrow } from "./complete-redirect.js";
import { type AuthSession, isPending } from "./session.js";
import { CONSENT_DENIED, commitFinish } from "./transitions.js";

/**
 * Someone pressed "deny" on Lark's consent page (the callback carries `error=access_denied`):
 * claim the state once → still pending → DECLINED (CONSENT_DENIED) + event; then the card. The
 * state proves the browser came through this session's redirector, not that it was the user's:
 * anyone holding the link can get there, so the record does not claim the user declined.
 */
export async function declineByState(
  deps: {
    readonly uow: AuthUnitOfWork;
    readonly clock: Clock;
    readonly cards: CardQueue;
    readonly crypto: FlowCrypto;
  },
  state: string,
): Promise<AuthSession> {
  const hash = deps.crypto.sha256Hex(state);
  const done = await deps.uow.run(async (tx) => {
    const { session } = await consumeStateOrThrow(tx, hash);
    if (!isPending(session)) return { session, changed: false };
    return {
      session: await commitFinish(tx, session, CONSENT_DENIED, deps.clock.now()),
      changed: true,
    };
  });
  if (done.changed) deps.cards.notify(done.session.appId, done.session.id);
  return done.session;
}
