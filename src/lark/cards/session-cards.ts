import type { LarkAppConfig } from "../../config/types.js";
import type { CardInputs, LarkCard } from "../../domain/ports.js";
import type { AuthSession } from "../../domain/sessions/session.js";
import { authorizationCard } from "./authorization-card.js";
import { type CardOutcome, resultCard } from "./result-card.js";

/** What a finished session's card shows; a pending session has no result card. */
export function cardOutcomeOf(session: AuthSession): CardOutcome {
  switch (session.state) {
    case "AUTHORIZED":
      return { state: "authorized" };
    case "DECLINED":
      return { state: "declined" };
    case "EXPIRED":
      return { state: "expired" };
    case "CANCELLED":
      return { state: session.failureReason === "SUPERSEDED" ? "superseded" : "cancelled" };
    case "FAILED":
      return {
        state: "failed",
        reason: session.failureReason === "USER_MISMATCH" ? "user_mismatch" : "other",
      };
    case "PENDING":
      throw new Error(`session ${session.id} is still pending: it has no result card`);
  }
}

/**
 * The card builders the dispatcher and the card-action handler use, bound to the configured apps'
 * names and card templates: the authorization card for a pending session (the app's template when it
 * has one), the result card once it finished.
 */
export function sessionCards(apps: readonly LarkAppConfig[]) {
  const byId = new Map(apps.map((a) => [a.appId, a]));
  const nameOf = (appId: string) => byId.get(appId)?.name ?? appId;
  return {
    buildCard(session: AuthSession, inputs: CardInputs): LarkCard {
      if (!session.authorizeUrl) throw new Error(`session ${session.id} has no authorize URL yet`);
      return authorizationCard({
        sessionId: session.id,
        appName: nameOf(session.appId),
        scopes: session.requestedScopes,
        style: inputs.descriptionStyle === "CONCISE" ? "concise" : "detailed",
        ...(inputs.message && { customMessage: inputs.message }),
        ...(inputs.privacyPolicyUrl && { privacyUrl: inputs.privacyPolicyUrl }),
        authorizeUrl: session.authorizeUrl,
        ...(inputs.userCode && { userCode: inputs.userCode }),
        expiresAt: session.expireTime,
        templateId: byId.get(session.appId)?.cardTemplateId,
      });
    },
    buildResultCard: (session: AuthSession): LarkCard =>
      resultCard(nameOf(session.appId), cardOutcomeOf(session)),
  };
}
