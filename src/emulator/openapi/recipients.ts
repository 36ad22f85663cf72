import type { EmulatorCore } from "../core.js";
import { larkError } from "../http/reply.js";
import type { Reply } from "../http/types.js";
import { p2pChatIdFor } from "../ids.js";
import type { AppRecord, UserRecord } from "../store/directory.js";

export const RECEIVE_ID_TYPES = ["open_id", "user_id", "union_id", "email", "chat_id"] as const;
export type ReceiveIdType = (typeof RECEIVE_ID_TYPES)[number];

const invalidReceiveId = (): Reply =>
  larkError(400, 230001, "Your request contains an invalid request parameter, ext=invalid receive_id");

/**
 * Resolves `receive_id` the way the platform scopes ids: an open_id only means something to the app it was
 * issued for (another app's open_id is 99992361), user_id and email are looked up in the app's tenant, and
 * a chat_id must be a chat the bot is in (here: its p2p chats).
 */
export function resolveRecipient(
  core: EmulatorCore,
  app: AppRecord,
  type: ReceiveIdType,
  id: string,
): { user: UserRecord; chatId: string } | Reply {
  const user =
    type === "chat_id"
      ? chatMember(core, app, id)
      : (tenantMember(core, app, type, id) ?? core.directory.findUser(id));
  if (!user) {
    if (type === "open_id") return larkError(400, 99992351, `The open_id is not exist: ${id}`);
    if (type === "chat_id") return larkError(400, 230002, "Bot/User can NOT be out of the chat.");
    return invalidReceiveId();
  }
  if (type === "open_id" && core.directory.openId(user, app.appId) !== id) {
    return larkError(400, 99992361, "open_id cross app");
  }
  if (!idMatches(core, app, user, type, id)) return invalidReceiveId();
  if (user.tenantKey !== app.tenantKey) {
    return larkError(400, 230038, "Cross tenant p2p chat operate forbid.");
  }
  return { user, chatId: p2pChatIdFor(app.appId, user.key) };
}

function idMatches(
  core: EmulatorCore,
  app: AppRecord,
  user: UserRecord,
  type: ReceiveIdType,
  id: string,
): boolean {
  switch (type) {
    case "open_id":
      return core.directory.openId(user, app.appId) === id;
    case "user_id":
      return user.userId === id;
    case "union_id":
      return user.unionId === id;
    case "email":
      return user.email === id;
    case "chat_id":
      return true;
  }
}

/** Emails (and user ids) are unique only within a tenant, so the app's own tenant is searched first. */
function tenantMember(
  core: EmulatorCore,
  app: AppRecord,
  type: ReceiveIdType,
  id: string,
): UserRecord | undefined {
  return core.directory.users(app.tenantKey).find((u) => idMatches(core, app, u, type, id));
}

function chatMember(core: EmulatorCore, app: AppRecord, chatId: string): UserRecord | undefined {
  return core.directory.users(app.tenantKey).find((u) => p2pChatIdFor(app.appId, u.key) === chatId);
}
