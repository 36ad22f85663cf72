import { newCardToken, newMessageId } from "../ids.js";

/** A message an app (or a user through an app) sent. */
export interface MessageRecord {
  messageId: string;
  appId: string;
  chatId: string;
  /** The recipient of a p2p message. */
  userKey: string;
  msgType: string;
  /** The `content` string as last sent or updated. */
  content: string;
  sender: { id: string; idType: "app_id" | "open_id"; senderType: "app" | "user"; tenantKey: string };
  createTime: number;
  updateTime: number;
  updated: boolean;
}

/** A delayed-update token handed out with a card callback. */
export interface CardToken {
  token: string;
  appId: string;
  messageId: string;
  expiresAt: number;
  usesLeft: number;
  /** True until the callback that issued it has been answered: earlier updates are lost, as on Lark. */
  callbackPending: boolean;
}

const UUID_WINDOW_MS = 60 * 60 * 1000;

/** Messages in send order, uuid de-duplication and card update tokens. */
export class MessageStore {
  readonly #messages = new Map<string, MessageRecord>();
  readonly #uuids = new Map<string, { messageId: string; at: number }>();
  readonly #cardTokens = new Map<string, CardToken>();

  add(fields: Omit<MessageRecord, "messageId" | "updateTime" | "updated">): MessageRecord {
    const record: MessageRecord = {
      ...fields,
      messageId: newMessageId(),
      updateTime: fields.createTime,
      updated: false,
    };
    this.#messages.set(record.messageId, record);
    return record;
  }

  get(messageId: string): MessageRecord | undefined {
    return this.#messages.get(messageId);
  }

  /** Messages to a user, oldest first (Map iteration keeps insertion order). */
  forUser(userKey: string): MessageRecord[] {
    return [...this.#messages.values()].filter((m) => m.userKey === userKey);
  }

  update(record: MessageRecord, content: string, now: number): void {
    record.content = content;
    record.updateTime = now;
    record.updated = true;
  }

  /** The message an earlier send with this uuid produced, within the 1-hour de-duplication window. */
  byUuid(appId: string, uuid: string, now: number): MessageRecord | undefined {
    const seen = this.#uuids.get(`${appId}\n${uuid}`);
    if (!seen || now - seen.at > UUID_WINDOW_MS) return undefined;
    return this.#messages.get(seen.messageId);
  }

  rememberUuid(appId: string, uuid: string, messageId: string, now: number): void {
    this.#uuids.set(`${appId}\n${uuid}`, { messageId, at: now });
  }

  issueCardToken(appId: string, messageId: string, expiresAt: number, uses: number): CardToken {
    const token: CardToken = {
      token: newCardToken(),
      appId,
      messageId,
      expiresAt,
      usesLeft: uses,
      callbackPending: true,
    };
    this.#cardTokens.set(token.token, token);
    return token;
  }

  cardToken(token: string): CardToken | undefined {
    return this.#cardTokens.get(token);
  }
}
