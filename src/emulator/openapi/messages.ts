import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import { json, larkError } from "../http/reply.js";
import type { EmuRequest, Reply, Route } from "../http/types.js";
import type { MessageRecord } from "../store/messages.js";
import { authenticate, type Caller, isReply } from "./gateway.js";
import { contentLimit, messageData, parseContent } from "./message-wire.js";
import { RECEIVE_ID_TYPES, type ReceiveIdType, resolveRecipient } from "./recipients.js";

const MSG_TYPES = new Set([
  "text",
  "post",
  "image",
  "file",
  "audio",
  "media",
  "sticker",
  "interactive",
  "share_chat",
  "share_user",
  "system",
]);
const FOURTEEN_DAYS_MS = 14 * 24 * 3600 * 1000;

const frequencyLimit = (): Reply => larkError(400, 230020, "This operation triggers the frequency limit.");
const invalidParam = (detail: string): Reply =>
  larkError(400, 230001, `Your request contains an invalid request parameter, ext=${detail}`);

/** Checks `msg_type` and `content` (a JSON string; cards must be objects; size limits per type). */
function checkContent(msgType: string, content: unknown): Reply | undefined {
  if (typeof content !== "string" || !parseContent(content)) return invalidParam("invalid message content");
  if (Buffer.byteLength(content) > contentLimit(msgType))
    return larkError(400, 230025, "The content of the message is too long.");
  return undefined;
}

function sender(core: EmulatorCore, caller: Caller): MessageRecord["sender"] {
  if (caller.kind === "tenant") {
    return { id: caller.app.appId, idType: "app_id", senderType: "app", tenantKey: caller.app.tenantKey };
  }
  const openId = core.directory.openId(caller.user, caller.app.appId);
  return { id: openId, idType: "open_id", senderType: "user", tenantKey: caller.user.tenantKey };
}

const badReceiveIdType = (): Reply =>
  json(400, {
    code: 99992402,
    msg: "field validation failed",
    error: {
      field_violations: [
        {
          field: "receive_id_type",
          description: "must be one of open_id, user_id, union_id, email, chat_id",
        },
      ],
    },
  });

/** The request-shape checks of a send, before anything is looked up. */
function checkSend(req: EmuRequest): { type: ReceiveIdType; msgType: string } | Reply {
  const type = req.query.get("receive_id_type") ?? "";
  if (!RECEIVE_ID_TYPES.includes(type as ReceiveIdType)) return badReceiveIdType();
  const msgType = field(req.body, "msg_type");
  if (!MSG_TYPES.has(msgType)) return invalidParam("invalid msg_type");
  return checkContent(msgType, req.body.content) ?? { type: type as ReceiveIdType, msgType };
}

function createMessage(core: EmulatorCore, req: EmuRequest): Reply {
  const caller = authenticate(core, req, { tenant: true, user: true });
  if (isReply(caller)) return caller;
  const shape = checkSend(req);
  if ("status" in shape) return shape;
  const { type, msgType } = shape;
  const now = core.now();
  const uuid = field(req.body, "uuid");
  const earlier = uuid ? core.messages.byUuid(caller.app.appId, uuid, now) : undefined;
  if (earlier) return json(200, { code: 0, msg: "success", data: messageData(earlier) });
  const target = resolveRecipient(core, caller.app, type, field(req.body, "receive_id"));
  if ("status" in target) return target;
  const perUser = { limit: core.config.messagesPerUserPerSecond, windowMs: 1000 };
  if (core.limiter.hit(`im-user\n${caller.app.appId}\n${target.user.key}`, [perUser], now))
    return frequencyLimit();
  const record = core.messages.add({
    appId: caller.app.appId,
    chatId: target.chatId,
    userKey: target.user.key,
    msgType,
    content: req.body.content as string,
    sender: sender(core, caller),
    createTime: now,
  });
  if (uuid) core.messages.rememberUuid(caller.app.appId, uuid, record.messageId, now);
  return json(200, { code: 0, msg: "success", data: messageData(record) });
}

function patchMessage(core: EmulatorCore, req: EmuRequest): Reply {
  const caller = authenticate(core, req, { tenant: true, user: true });
  if (isReply(caller)) return caller;
  const record = core.messages.get(req.params.message_id ?? "");
  if (!record || record.appId !== caller.app.appId) return invalidParam("invalid message_id");
  if (record.msgType !== "interactive") return invalidParam("only interactive messages can be updated");
  const now = core.now();
  if (now - record.createTime > FOURTEEN_DAYS_MS)
    return larkError(400, 230031, "The message has exceeded the time limit for updating.");
  const bad = checkContent("interactive", req.body.content);
  if (bad) return bad;
  const perMessage = { limit: 5, windowMs: 1000 };
  if (core.limiter.hit(`im-patch\n${record.messageId}`, [perMessage], now)) return frequencyLimit();
  core.messages.update(record, req.body.content as string, now);
  return json(200, { code: 0, msg: "success", data: {} });
}

export function messageRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/open-apis/im/v1/messages",
      openPlatform: true,
      rateLimited: true,
      handler: (req) => createMessage(core, req),
    },
    {
      method: "PATCH",
      pattern: "/open-apis/im/v1/messages/:message_id",
      openPlatform: true,
      rateLimited: true,
      handler: (req) => patchMessage(core, req),
    },
  ];
}
