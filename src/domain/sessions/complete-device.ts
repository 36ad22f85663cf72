import type { LarkDevicePoll } from "../ports.js";
import { endPending, type FinishDeps, finishWithTokens, notFound } from "./finish-with-tokens.js";
import { type AuthSession, isPending } from "./session.js";
import { CONSENT_DENIED } from "./transitions.js";

/**
 * What one device-token poll means for the session (called by the device poller): tokens finish it
 * like a redirect; a denial declines it; an expired device code fails it; pending and slow_down
 * change nothing here (the poller owns the polling interval). A session that already ended stays as it is.
 */
export async function completeDevice(
  deps: FinishDeps,
  sessionId: string,
  poll: LarkDevicePoll,
): Promise<AuthSession> {
  const session = await deps.uow.run((tx) => tx.lockSession(sessionId));
  if (!session) throw notFound(sessionId);
  if (!isPending(session)) return session;
  switch (poll.status) {
    case "pending":
    case "slow_down":
      return session;
    case "authorized":
      return finishWithTokens(deps, session, poll.tokens);
    case "denied":
      return endPending(deps, sessionId, CONSENT_DENIED);
    case "expired":
      return endPending(deps, sessionId, {
        state: "FAILED",
        reason: "DEVICE_CODE_EXPIRED",
        message: "the device code expired before the user authorized",
      });
  }
}
