import type { IncomingMessage, ServerResponse } from "node:http";
import { isSessionId } from "../domain/sessions/session.js";
import type { Logger } from "../telemetry/logger.js";
import { type CallbackResult, outcomeOf, outcomeOfError, sendResultPage } from "./oauth-callback.js";

/** The card's Authorize button opens `${publicUrl}${OAUTH_AUTHORIZE_PREFIX}<session_id>`. */
export const OAUTH_AUTHORIZE_PREFIX = "/oauth/authorize/";

export interface AuthorizeRedirectDeps {
  /** domain/sessions/open-authorization.ts: Lark's consent URL with a fresh state, or the final state. */
  openAuthorization(
    sessionId: string,
  ): Promise<
    | { readonly kind: "consent"; readonly url: string }
    | { readonly kind: "finished"; readonly session: CallbackResult }
  >;
  readonly logger: Pick<Logger, "error">;
}

/**
 * `GET /oauth/authorize/<session_id>`: the redirector. A pending redirect session answers 302 to
 * Lark's consent page with a state made for this click; a finished, expired or unknown one answers
 * its result page. The Location carries the state, so the answer is never cached and never leaks
 * through a Referer.
 */
export function createAuthorizeRedirectRoute(
  deps: AuthorizeRedirectDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const sessionId = path.slice(OAUTH_AUTHORIZE_PREFIX.length);
    if (!isSessionId(sessionId)) return sendResultPage(req, res, "invalid");
    try {
      const opened = await deps.openAuthorization(sessionId);
      if (opened.kind === "finished") return sendResultPage(req, res, outcomeOf(opened.session));
      res.writeHead(302, {
        location: opened.url,
        "cache-control": "no-store",
        pragma: "no-cache",
        "referrer-policy": "no-referrer",
        "content-length": 0,
      });
      res.end();
    } catch (err) {
      sendResultPage(req, res, outcomeOfError(deps, err));
    }
  };
}
