import type { EmulatorCore } from "../core.js";
import { html } from "../http/reply.js";
import type { Route } from "../http/types.js";
import { userCookie, userView } from "../oauth/views.js";
import { parseContent } from "../openapi/message-wire.js";
import {
  type EmulatorMessageView,
  renderChatPage,
  renderResultPage,
  renderUsersPage,
} from "../pages/index.js";

/** The human-facing pages: the user list and each user's chat with the bots. */
export function uiRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "GET",
      pattern: "/_emulator/ui",
      handler: () => html(200, renderUsersPage(core.directory.users().map((u) => userView(core, u)))),
    },
    {
      method: "GET",
      pattern: "/_emulator/ui/users/:open_id",
      handler(req) {
        const openId = req.params.open_id ?? "";
        const user = core.directory.findUser(openId);
        if (!user)
          return html(
            404,
            renderResultPage({ title: "Unknown user", message: `No user has the id ${openId}.`, ok: false }),
          );
        const messages: EmulatorMessageView[] = core.messages.forUser(user.key).map((m) => ({
          message_id: m.messageId,
          msg_type: m.msgType,
          create_time: String(m.createTime),
          card: parseContent(m.content) ?? m.content,
          updated: m.updated,
        }));
        const users = core.directory.users().map((u) => userView(core, u));
        const page = renderChatPage({ user: userView(core, user), messages, users });
        // Signing in here is what the consent page later recognises as "the current user".
        return html(200, page, { "set-cookie": userCookie(openId) });
      },
    },
  ];
}
