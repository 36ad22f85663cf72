import type { EmulatorCore } from "../core.js";
import { messageView, parseContent } from "../openapi/message-wire.js";
import type { MessageRecord } from "../store/messages.js";
import { callbackButtons, sameJson } from "./buttons.js";
import { cardActionPayload } from "./payload.js";

/** A click: by the button's callback `value`, or by its position among the card's callback buttons. */
export interface CardActionInput {
  operator_open_id: string;
  value?: unknown;
  index?: number;
}

/** What the click produced, as the control API answers it. */
export type CardActionResult =
  | {
      ok: true;
      acked: boolean;
      attempts: number;
      answer?: unknown;
      toast?: unknown;
      message: ReturnType<typeof messageView>;
    }
  | { ok: false; status: number; error: string };

const fail = (status: number, error: string): CardActionResult => ({ ok: false, status, error });

function pickButton(card: unknown, input: CardActionInput): { value: unknown; tag: string } | string {
  const buttons = callbackButtons(card);
  if (input.index !== undefined)
    return buttons[input.index] ?? `the card has no callback button #${input.index}`;
  if (!("value" in input)) return "give the button's value or its index";
  return (
    buttons.find((b) => sameJson(b.value, input.value)) ?? "no callback button of the card has that value"
  );
}

/** Applies `card` from a callback answer: `raw` replaces the card JSON, `template` is stored as sent. */
function applyAnswer(core: EmulatorCore, message: MessageRecord, answer: unknown): void {
  if (!answer || typeof answer !== "object") return;
  const card = (answer as { card?: { type?: unknown; data?: unknown } }).card;
  if (!card || typeof card !== "object" || card.data === undefined) return;
  const content = card.type === "raw" ? card.data : { type: card.type, data: card.data };
  core.messages.update(message, JSON.stringify(content), core.now());
}

/**
 * Acts as the user clicking a callback button: builds the real `card.action.trigger` payload with a fresh
 * `c-` token, delivers it (long connection or webhook, per the app), applies the answer's `card` to the
 * stored message and hands back the answer (with its `toast`) the way the clicker's client would see it.
 */
export async function actOnCard(
  core: EmulatorCore,
  messageId: string,
  input: CardActionInput,
): Promise<CardActionResult> {
  const message = core.messages.get(messageId);
  if (message?.msgType !== "interactive") return fail(404, "no card message with that id");
  const app = core.directory.app(message.appId);
  const operator = core.directory.findUser(input.operator_open_id);
  if (!app || !operator) return fail(400, "unknown operator_open_id");
  if (operator.key !== message.userKey)
    return fail(403, "the operator cannot see this card (it was sent to someone else)");
  const button = pickButton(parseContent(message.content), input);
  if (typeof button === "string") return fail(400, button);
  const { cardTokenTtlSeconds, cardTokenUses } = core.config;
  const token = core.messages.issueCardToken(
    app.appId,
    messageId,
    core.now() + cardTokenTtlSeconds * 1000,
    cardTokenUses,
  );
  const outcome = await core.deliver(
    app,
    cardActionPayload(core, app, message, operator, button, token.token),
  );
  token.callbackPending = false;
  if (!outcome.acked) return fail(502, `the app did not answer the callback (${outcome.attempts} attempts)`);
  applyAnswer(core, message, outcome.response);
  const toast = (outcome.response as { toast?: unknown } | undefined)?.toast;
  return {
    ok: true,
    acked: true,
    attempts: outcome.attempts,
    answer: outcome.response,
    toast,
    message: messageView(core, message),
  };
}
