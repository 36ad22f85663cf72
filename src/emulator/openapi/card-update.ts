import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import { json, larkError } from "../http/reply.js";
import type { EmuRequest, Reply, Route } from "../http/types.js";
import { authenticate, isReply } from "./gateway.js";

const invalid = (detail: string): Reply =>
  larkError(400, 230001, `Your request contains an invalid request parameter, ext=${detail}`);

/**
 * Delayed card update with a callback's `c-` token: tenant token only, the token's own app only, 30 minutes,
 * two uses. An update sent while the callback is still unanswered is accepted but lost, which is how Lark
 * punishes calling it before responding to the callback.
 */
function updateCard(core: EmulatorCore, req: EmuRequest): Reply {
  const caller = authenticate(core, req, { tenant: true, user: false });
  if (isReply(caller)) return caller;
  const card = req.body.card;
  const token = core.messages.cardToken(field(req.body, "token"));
  if (!card || typeof card !== "object" || Array.isArray(card)) return invalid("card is required");
  if (!token || token.appId !== caller.app.appId) return invalid("invalid token");
  if (token.expiresAt <= core.now()) return invalid("token expired");
  if (token.usesLeft <= 0) return invalid("token usage limit exceeded");
  const { open_ids: _openIds, ...cardJson } = card as Record<string, unknown>;
  const content = JSON.stringify(cardJson);
  if (Buffer.byteLength(content) > 30 * 1024)
    return larkError(400, 230025, "The content of the message is too long.");
  token.usesLeft -= 1;
  const message = core.messages.get(token.messageId);
  if (message && !token.callbackPending) core.messages.update(message, content, core.now());
  return json(200, { code: 0, msg: "success", data: {} });
}

export function cardUpdateRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/open-apis/interactive/v1/card/update",
      openPlatform: true,
      rateLimited: true,
      handler: (req) => updateCard(core, req),
    },
  ];
}
