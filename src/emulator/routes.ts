import { appRoutes } from "./control/apps.js";
import { cardRoutes } from "./control/cards.js";
import { faultRoutes } from "./control/faults.js";
import { oauthControlRoutes } from "./control/oauth.js";
import { settingsRoutes } from "./control/settings.js";
import { uiRoutes } from "./control/ui.js";
import { userRoutes } from "./control/users.js";
import type { EmulatorCore } from "./core.js";
import { json } from "./http/reply.js";
import { Router } from "./http/router.js";
import type { Route } from "./http/types.js";
import { authorizePageRoutes } from "./oauth/authorize-page.js";
import { deviceRoutes } from "./oauth/device-page.js";
import { tokenRoutes } from "./oauth/token-endpoint.js";
import { appTokenRoutes } from "./openapi/app-tokens.js";
import { cardUpdateRoutes } from "./openapi/card-update.js";
import { messageRoutes } from "./openapi/messages.js";
import { userInfoRoutes } from "./openapi/user-info.js";

/** The long-connection bootstrap the SDK's WSClient calls before opening the socket. */
function wsEndpointRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/callback/ws/endpoint",
      openPlatform: true,
      handler(req) {
        const answer = core.hub.handleEndpoint(req.body);
        return json(answer.status, answer.json);
      },
    },
  ];
}

/** Every path the emulator serves: the Open Platform's, then the `/_emulator` control API and pages. */
export function buildRouter(core: EmulatorCore): Router {
  const router = new Router();
  router.add(
    ...appTokenRoutes(core),
    ...tokenRoutes(core),
    ...authorizePageRoutes(core),
    ...deviceRoutes(core),
    ...userInfoRoutes(core),
    ...messageRoutes(core),
    ...cardUpdateRoutes(core),
    ...wsEndpointRoutes(core),
    ...appRoutes(core),
    ...userRoutes(core),
    ...cardRoutes(core),
    ...oauthControlRoutes(core),
    ...faultRoutes(core),
    ...settingsRoutes(core),
    ...uiRoutes(core),
  );
  return router;
}
