import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import { html, redirect } from "../http/reply.js";
import type { EmuRequest, Reply, Route } from "../http/types.js";
import { renderConsentPage, renderResultPage } from "../pages/index.js";
import {
  type AuthorizeRequest,
  decideAuthorize,
  isProblem,
  parseAuthorize,
  redirectWith,
} from "./authorize.js";
import { pageUsers, userCookie } from "./views.js";

const AUTHORIZE_PATH = "/open-apis/authen/v1/authorize";

function problemPage(code: number, message: string): Reply {
  return html(400, renderResultPage({ title: `Authorization error ${code}`, message, ok: false }));
}

function consentPage(core: EmulatorCore, req: EmuRequest, request: AuthorizeRequest): Reply {
  const { users, currentUser } = pageUsers(core, request.app, req.cookies.emulator_user);
  const page = renderConsentPage({
    app: { app_id: request.app.appId, name: request.app.name },
    scopes: request.scopes,
    currentUser,
    users,
    // The OAuth parameters travel in the action's query string, the decision in the form body.
    formAction: `${AUTHORIZE_PATH}?${req.query.toString()}`,
    hidden: {},
  });
  return html(200, page);
}

/** The form POST: 302 to `redirect_uri` with `code` or `error=access_denied`, and remember the user. */
function submitConsent(core: EmulatorCore, req: EmuRequest, request: AuthorizeRequest): Reply {
  const approve = field(req.body, "decision") === "approve";
  const user = core.directory.findUser(field(req.body, "open_id"));
  if (approve && (!user || user.tenantKey !== request.app.tenantKey)) {
    return problemPage(20008, "Choose a user of the app's tenant to authorize as.");
  }
  if (!user) return redirect(redirectWith(request, { error: "access_denied" }));
  const location = decideAuthorize(core, request, user, approve);
  return redirect(location, { "set-cookie": userCookie(core.directory.openId(user, request.app.appId)) });
}

export function authorizePageRoutes(core: EmulatorCore): Route[] {
  const withRequest = (req: EmuRequest, next: (request: AuthorizeRequest) => Reply): Reply => {
    const request = parseAuthorize(core, req.query);
    return isProblem(request) ? problemPage(request.code, request.message) : next(request);
  };
  return [
    {
      method: "GET",
      pattern: AUTHORIZE_PATH,
      openPlatform: true,
      rateLimited: true,
      handler: (req) => withRequest(req, (request) => consentPage(core, req, request)),
    },
    {
      method: "POST",
      pattern: AUTHORIZE_PATH,
      openPlatform: true,
      handler: (req) => withRequest(req, (request) => submitConsent(core, req, request)),
    },
  ];
}
