import { assertCan, type Caller } from "../callers.js";
import { DomainError, DomainErrorCode } from "../errors.js";
import type { AuthUnitOfWork, CardQueue, Clock } from "../ports.js";
import { notFound } from "./finish-with-tokens.js";
import { type AuthSession, isPending } from "./session.js";
import { commitFinish } from "./transitions.js";

/**
 * CancelAuthSession: lock → the caller may start sessions on its app (PERMISSION_DENIED otherwise,
 * as GetAuthSession answers a caller without auth:read) → pending (else SESSION_NOT_PENDING) →
 * CANCELLED, reason CANCELLED_BY_CALLER, + event; then the card is brought up to date.
 */
export async function cancelSession(
  deps: { readonly uow: AuthUnitOfWork; readonly clock: Clock; readonly cards: CardQueue },
  caller: Caller,
  sessionId: string,
): Promise<AuthSession> {
  const cancelled = await deps.uow.run(async (tx) => {
    const session = await tx.lockSession(sessionId);
    if (!session) throw notFound(sessionId);
    assertCan(caller, "auth:start", session.appId);
    if (!isPending(session)) {
      throw new DomainError(
        DomainErrorCode.SESSION_NOT_PENDING,
        `auth session ${sessionId} is ${session.state} and can no longer be cancelled`,
        { metadata: { session_id: sessionId, state: session.state } },
      );
    }
    return commitFinish(
      tx,
      session,
      { state: "CANCELLED", reason: "CANCELLED_BY_CALLER", message: "cancelled by the requesting service" },
      deps.clock.now(),
    );
  });
  deps.cards.notify(cancelled.appId, cancelled.id);
  return cancelled;
}
