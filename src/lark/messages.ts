import type { LarkCard, SentCard } from "../domain/ports.js";
import type { UserRef } from "../domain/users.js";
import type { LarkApp } from "./clients.js";
import { callLark, ensureOk, larkAnswerError } from "./errors.js";

/** Lark's documented limit on `uuid`; a longer one would be refused with 230001. */
const MAX_UUID = 50;

export async function sendCard(app: LarkApp, to: UserRef, card: LarkCard, uuid?: string): Promise<SentCard> {
  if (uuid !== undefined && uuid.length > MAX_UUID)
    throw larkAnswerError("send card", { code: 230001, msg: `uuid longer than ${MAX_UUID}` });
  const body = await callLark("send card", () =>
    app.client.im.v1.message.create({
      params: { receive_id_type: to.kind },
      data: {
        receive_id: to.value,
        msg_type: "interactive",
        content: JSON.stringify(card),
        ...(uuid === undefined ? {} : { uuid }),
      },
    }),
  );
  const data = ensureOk("send card", body).data;
  const messageId = data?.message_id;
  if (!messageId) throw larkAnswerError("send card", { code: 0, msg: "answer without message_id" }, 200);
  // The one-to-one chat the card landed in: who may act on it when the session names no open_id.
  const createTime = millis(data?.create_time);
  return {
    messageId,
    ...(data?.chat_id ? { chatId: data.chat_id } : {}),
    ...(createTime ? { createTime } : {}),
  };
}

/** Lark's `create_time`: epoch milliseconds as a string; anything else is ignored. */
function millis(value: string | undefined): Date | undefined {
  if (!value || !/^\d{12,14}$/.test(value)) return undefined;
  return new Date(Number(value));
}

/** Replaces the whole card; Lark requires the message to be an interactive card sent by this app. */
export async function updateCard(app: LarkApp, messageId: string, card: LarkCard): Promise<void> {
  const body = await callLark("update card", () =>
    app.client.im.v1.message.patch({
      path: { message_id: messageId },
      data: { content: JSON.stringify(card) },
    }),
  );
  ensureOk("update card", body);
}
