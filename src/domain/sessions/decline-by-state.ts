import type { AuthUnitOfWork, CardQueue, Clock, FlowCrypto } from "../ports.js";
import { consumeStateOrThrow } from "./complete-redirect.js";
import { type AuthSession, isPending } from "./session.js";
import { commitFinish } from "./transitions.js";

/**
 * The person pressed "deny" on Lark's consent page (the callback carries `error=access_denied`):
 * claim the state once → still pending → DECLINED + event; then the card. The state proves the
 * browser came from this session's redirector, so no one else can decline it this way.
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
      session: await commitFinish(tx, session, { state: "DECLINED" }, deps.clock.now()),
      changed: true,
    };
  });
  if (done.changed) deps.cards.notify(done.session.appId, done.session.id);
  return done.session;
}
