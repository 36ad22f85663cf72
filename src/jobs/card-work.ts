import type { CardInputs, LarkCard, LarkGateway } from "../domain/ports.js";
import type { AuthSession } from "../domain/sessions/session.js";

export type { CardWork, CardWorkStore, DeviceAuthorization } from "../domain/jobs.js";
export type { CardInputs };

/** The slice of the LarkGateway port the card dispatcher calls. */
export type JobsGateway = Pick<LarkGateway, "sendCard" | "updateCard" | "startDeviceAuthorization">;

/** Builds the authorization card (src/lark/cards/authorization-card.ts). */
export type BuildCard = (session: AuthSession, inputs: CardInputs) => LarkCard;
/** Builds the card that shows a finished session's result. */
export type BuildResultCard = (session: AuthSession) => LarkCard;

/**
 * A Lark failure is terminal when retrying cannot help (the gateway's LarkError says
 * `kind: "terminal"`); anything else (timeouts, 5xx, rate limits, database hiccups) is transient.
 */
export function isTerminal(err: unknown): boolean {
  return (err as { kind?: unknown } | null)?.kind === "terminal";
}

/** A message safe for failure_message: the Lark code only, never text that could echo input. */
export function safeFailure(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? `Lark refused the request (code ${code})` : "Lark refused the request";
}
