import { DomainError } from "../domain/errors.js";
import type { LarkCard } from "../domain/ports.js";
import type { DeclineInput, DeclineResult } from "../domain/sessions/decline.js";
import { type AuthSession, isSessionId } from "../domain/sessions/session.js";
import type { CardAction, CardActionAnswer, CardActionHandler } from "./card-callback.js";

export interface DeclineHandlerDeps {
  /** domain/sessions/decline.ts, bound to its unit of work. */
  decline(input: DeclineInput): Promise<DeclineResult>;
  resultCard(session: AuthSession): LarkCard;
}

const WORD: Record<AuthSession["state"], string> = {
  PENDING: "pending",
  AUTHORIZED: "authorized",
  DECLINED: "declined",
  EXPIRED: "expired",
  FAILED: "closed",
  CANCELLED: "withdrawn",
};

/** The Decline button's value (lark/cards/authorization-card.ts), or undefined for anything else. */
function declinedSessionId(action: CardAction): string | undefined {
  const value = action.value as { action?: unknown; session_id?: unknown } | null | undefined;
  if (value?.action !== "decline" || typeof value.session_id !== "string") return undefined;
  return isSessionId(value.session_id) ? value.session_id : undefined;
}

/**
 * `card.action.trigger` → decline: parse the button → declineSession → a toast, and the card replaced
 * inline by its result (Lark waits at most 3 s, so no second round trip). Someone other than the
 * addressed user changes nothing; a finished session's card is brought up to its current state.
 */
export function createDeclineHandler(deps: DeclineHandlerDeps): CardActionHandler {
  return async (action): Promise<CardActionAnswer> => {
    const sessionId = declinedSessionId(action);
    if (!sessionId) return { toast: { type: "warning", content: "This button is not active." } };
    let result: DeclineResult;
    try {
      result = await deps.decline({
        appId: action.appId,
        sessionId,
        operatorOpenId: action.operator.openId,
        ...(action.chatId && { chatId: action.chatId }),
      });
    } catch (err) {
      if (err instanceof DomainError && err.code === "SESSION_NOT_FOUND")
        return { toast: { type: "warning", content: "This request no longer exists." } };
      throw err;
    }
    switch (result.outcome) {
      case "declined":
        return {
          toast: { type: "success", content: "You declined the request." },
          card: deps.resultCard(result.session),
        };
      case "not_pending":
        return {
          toast: { type: "info", content: `This request is already ${WORD[result.session.state]}.` },
          card: deps.resultCard(result.session),
        };
      case "not_addressed":
        return {
          toast: { type: "error", content: "Only the person this request was sent to can decline it." },
        };
    }
  };
}
