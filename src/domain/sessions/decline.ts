import type { AuthTx, AuthUnitOfWork, Clock } from "../ports.js";
import { notFound } from "./finish-with-tokens.js";
import { type AuthSession, isPending } from "./session.js";
import { commitFinish } from "./transitions.js";

/** A Decline click on a session's card, as the card-action handler received it. */
export interface DeclineInput {
  /** The app whose long connection delivered the click: it may decline only its own sessions. */
  readonly appId: string;
  readonly sessionId: string;
  readonly operatorOpenId: string;
  /** The chat the click came from (open_chat_id), when Lark said. */
  readonly chatId?: string;
}

/**
 * How the click ended, for the toast and the inline card: `declined` (now DECLINED), `not_pending`
 * (already final: the card shows its current state, nothing changed), `not_addressed` (someone else clicked).
 */
export type DeclineOutcome = "declined" | "not_pending" | "not_addressed";

export interface DeclineResult {
  readonly outcome: DeclineOutcome;
  readonly session: AuthSession;
}

/**
 * Decline: lock the session → not pending: answer its state → not the addressed user: refuse →
 * DECLINED + event. The card is answered inline by the caller (Lark's 3 s budget), so the change
 * marks the card as already showing DECLINED rather than waking the dispatcher.
 */
export async function declineSession(
  deps: { readonly uow: AuthUnitOfWork; readonly clock: Clock },
  input: DeclineInput,
): Promise<DeclineResult> {
  return deps.uow.run(async (tx) => {
    const session = await tx.lockSession(input.sessionId);
    // Another app's card cannot name this session: answer as if it did not exist, and change nothing.
    if (!session || session.appId !== input.appId) throw notFound(input.sessionId);
    if (!isPending(session)) return { outcome: "not_pending", session };
    if (!(await isAddressedUser(tx, session, input))) return { outcome: "not_addressed", session };
    const declined = await commitFinish(tx, session, { state: "DECLINED" }, deps.clock.now(), "synced");
    return { outcome: "declined", session: declined };
  });
}

/**
 * Only the user the card was for may decline it: by open_id when the session knows it (resolved, or
 * asked by open_id); otherwise the card went to a one-to-one chat with that user, so a click from
 * that chat is theirs.
 */
async function isAddressedUser(tx: AuthTx, session: AuthSession, input: DeclineInput): Promise<boolean> {
  const openId =
    session.identity?.openId ?? (session.user.kind === "open_id" ? session.user.value : undefined);
  if (openId !== undefined) return openId === input.operatorOpenId;
  const chatId = await tx.cardChatId(session.id);
  return chatId !== undefined && chatId === input.chatId;
}
