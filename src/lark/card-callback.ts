import type { LarkCard } from "../domain/ports.js";

/** A click on a card's callback button, as the SDK's dispatcher delivers `card.action.trigger`. */
export interface CardAction {
  readonly appId: string;
  readonly operator: { readonly openId: string; readonly unionId?: string; readonly userId?: string };
  /** The button's callback value, exactly as the card set it. */
  readonly value: unknown;
  readonly messageId?: string;
  /** The chat the clicked card is in (open_chat_id). */
  readonly chatId?: string;
  /** Lark's delayed-update token (30 min, 2 uses); a secret: never log it. */
  readonly updateToken?: string;
}

/** What the clicker sees: a toast and/or the card replaced in place. Both optional. */
export interface CardActionAnswer {
  readonly toast?: { readonly type: "info" | "success" | "warning" | "error"; readonly content: string };
  readonly card?: LarkCard;
}

export type CardActionHandler = (action: CardAction) => Promise<CardActionAnswer>;

/** The flattened `{...header, ...event}` object the SDK's EventDispatcher hands a handler. */
export interface RawCardAction {
  operator?: { open_id?: string; union_id?: string; user_id?: string };
  action?: { value?: unknown };
  context?: { open_message_id?: string; open_chat_id?: string };
  token?: string;
}

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

export function toAction(appId: string, raw: RawCardAction): CardAction {
  return {
    appId,
    operator: {
      openId: raw.operator?.open_id ?? "",
      unionId: str(raw.operator?.union_id),
      userId: str(raw.operator?.user_id),
    },
    value: raw.action?.value,
    messageId: str(raw.context?.open_message_id),
    chatId: str(raw.context?.open_chat_id),
    updateToken: str(raw.token),
  };
}

/** The callback response Lark expects (§6.3): a template card keeps its form, any other card is raw. */
export function toResponse(answer: CardActionAnswer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (answer.toast) out.toast = answer.toast;
  if (answer.card)
    out.card = answer.card.type === "template" ? answer.card : { type: "raw", data: answer.card };
  return out;
}
