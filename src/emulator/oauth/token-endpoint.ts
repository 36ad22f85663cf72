import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import type { EmuRequest, Reply, Route } from "../http/types.js";
import { authenticateClient } from "./client-auth.js";
import { exchangeCode, type TokenEndpointVersion } from "./code-grant.js";
import { pollDeviceCode } from "./device.js";
import { oauthError } from "./errors.js";
import { refresh } from "./refresh-grant.js";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** One handler for v2 (`/open-apis/authen/v2/oauth/token`) and v3 (`/oauth/v3/token`); JSON or form bodies. */
function tokenEndpoint(core: EmulatorCore, req: EmuRequest, version: TokenEndpointVersion): Reply {
  if (req.bodyError) return oauthError(20063, req.bodyError);
  const grantType = field(req.body, "grant_type");
  if (!grantType) return oauthError(20001, "grant_type is required.");
  const app = authenticateClient(core, req);
  if ("status" in app) return app;
  switch (grantType) {
    case "authorization_code":
      return exchangeCode(core, app, req, version);
    case "refresh_token":
      return refresh(core, app, req);
    case DEVICE_GRANT:
      return pollDeviceCode(core, app, req);
    default:
      return oauthError(20036);
  }
}

export function tokenRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/open-apis/authen/v2/oauth/token",
      openPlatform: true,
      rateLimited: true,
      handler: (req) => tokenEndpoint(core, req, "v2"),
    },
    {
      method: "POST",
      pattern: "/oauth/v3/token",
      openPlatform: true,
      rateLimited: true,
      handler: (req) => tokenEndpoint(core, req, "v3"),
    },
  ];
}
