import type { CardInputs } from "../domain/jobs.js";
import type { AuthSession } from "../domain/sessions/session.js";
import type { UserIdKind } from "../domain/users.js";

export type { CardInputs, CardWork, CardWorkStore, DeviceAuthorization } from "../domain/jobs.js";

/** Where a card goes: the user as the caller named them. */
export interface CardReceiver {
  readonly type: UserIdKind;
  readonly id: string;
}

/** The slice of the LarkGateway port the jobs call (the design's LarkGateway fits). */
export interface JobsGateway {
  sendCard(
    appId: string,
    receiver: CardReceiver,
    card: object,
    uuid?: string,
  ): Promise<{ messageId: string; chatId?: string }>;
  updateCard(appId: string, messageId: string, card: object): Promise<void>;
  startDeviceAuthorization(
    appId: string,
    scopes: string[],
  ): Promise<{ deviceCode: string; verificationUriComplete: string; expiresIn: number; interval: number }>;
}

/** Builds the authorization card (src/lark/cards/authorization-card.ts). */
export type BuildCard = (session: AuthSession, inputs: CardInputs) => object;
/** Builds the card that shows a finished session's result. */
export type BuildResultCard = (session: AuthSession) => object;

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
