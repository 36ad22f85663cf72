import type { EmulatorCore } from "../core.js";
import type { MessageRecord } from "../store/messages.js";

/** Cards and posts are limited to 30 KB, text to 150 KB. */
export function contentLimit(msgType: string): number {
  return msgType === "text" ? 150 * 1024 : 30 * 1024;
}

/** Parses `content` (always a JSON string on the wire); undefined when it is not a JSON object. */
export function parseContent(content: unknown): Record<string, unknown> | undefined {
  if (typeof content !== "string") return undefined;
  try {
    const parsed: unknown = JSON.parse(content);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The message as `POST /im/v1/messages` returns it in `data`. */
export function messageData(record: MessageRecord) {
  return {
    message_id: record.messageId,
    msg_type: record.msgType,
    create_time: String(record.createTime),
    update_time: String(record.updateTime),
    deleted: false,
    updated: record.updated,
    chat_id: record.chatId,
    sender: {
      id: record.sender.id,
      id_type: record.sender.idType,
      sender_type: record.sender.senderType,
      tenant_key: record.sender.tenantKey,
    },
    body: { content: record.content },
  };
}

/** The message as the control API and the chat page show it: the card as last updated, parsed. */
export function messageView(core: EmulatorCore, record: MessageRecord) {
  const user = core.directory.user(record.userKey);
  return {
    message_id: record.messageId,
    msg_type: record.msgType,
    app_id: record.appId,
    chat_id: record.chatId,
    receiver_open_id: user ? core.directory.openId(user, record.appId) : null,
    create_time: String(record.createTime),
    update_time: String(record.updateTime),
    updated: record.updated,
    card: parseContent(record.content) ?? record.content,
    content: record.content,
  };
}
