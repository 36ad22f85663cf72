import * as lark from "@larksuiteoapi/node-sdk";
import type { LarkCard } from "../domain/ports.js";
import type { Logger } from "../telemetry/logger.js";
import type { LarkApp } from "./clients.js";
import { sdkLogger, sdkLoggerLevel } from "./sdk-logger.js";

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

export interface CardActionListener {
  /** `connecting`, `connected`, `reconnecting`, `failed` or `idle` (the SDK's connection state). */
  state(): string;
  close(): void;
}

/** The flattened `{...header, ...event}` object the SDK's EventDispatcher hands a handler. */
interface RawCardAction {
  operator?: { open_id?: string; union_id?: string; user_id?: string };
  action?: { value?: unknown };
  context?: { open_message_id?: string; open_chat_id?: string };
  token?: string;
}

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

function toAction(appId: string, raw: RawCardAction): CardAction {
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
function toResponse(answer: CardActionAnswer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (answer.toast) out.toast = answer.toast;
  if (answer.card)
    out.card = answer.card.type === "template" ? answer.card : { type: "raw", data: answer.card };
  return out;
}

const FAILED: CardActionAnswer = {
  toast: { type: "error", content: "Something went wrong. Please try again." },
};

/**
 * Opens the app's long connection (node-sdk WSClient) and routes `card.action.trigger` to `handler`.
 * The answer travels back in the event's ACK, which Lark waits for at most 3 s: the handler must be
 * quick. A handler that throws is logged and the clicker gets an error toast instead of silence.
 */
export function startCardActionListener(
  app: LarkApp,
  handler: CardActionHandler,
  logger: Logger,
): CardActionListener {
  const appId = app.config.appId;
  const log = logger.child({ component: "lark-card-actions", app_id: appId });
  const options = { logger: sdkLogger(logger), loggerLevel: sdkLoggerLevel(logger) };
  const dispatcher = new lark.EventDispatcher(options).register({
    "card.action.trigger": async (raw: RawCardAction) => {
      try {
        return toResponse(await handler(toAction(appId, raw)));
      } catch (err) {
        log.error({ err }, "card action handler failed");
        return toResponse(FAILED);
      }
    },
  });
  const ws = new lark.WSClient({
    appId,
    appSecret: app.config.appSecret,
    domain: app.endpoints.sdkDomain,
    ...options,
    onReady: () => log.info("long connection ready"),
    onError: (err) => log.error({ err }, "long connection gave up"),
  });
  // start() resolves once the first attempt settles; reconnection continues in the background.
  void ws.start({ eventDispatcher: dispatcher });
  return {
    state: () => ws.getConnectionStatus().state,
    close: () => ws.close({ force: true }),
  };
}
