import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import { json } from "../http/reply.js";
import type { EmuRequest, Reply, Route } from "../http/types.js";

/**
 * Self-built app credentials check. Failures are HTTP 200 with a non-zero code, as observed on the real
 * platform: an unknown app id is 10003 "invalid param", a wrong secret 10014 "app secret invalid".
 */
function checkCredentials(core: EmulatorCore, req: EmuRequest): { appId: string } | Reply {
  const appId = field(req.body, "app_id");
  const secret = field(req.body, "app_secret");
  const app = appId ? core.directory.app(appId) : undefined;
  if (!app || !secret) return json(200, { code: 10003, msg: "invalid param", data: {} });
  if (app.appSecret !== secret) return json(200, { code: 10014, msg: "app secret invalid" });
  return { appId };
}

function issue(core: EmulatorCore, appId: string): { token: string; expire: number } {
  const now = core.now();
  const token = core.tenantTokens.issue(appId, now, core.config.tenantTokenTtlSeconds * 1000);
  return { token: token.token, expire: Math.max(0, Math.floor((token.expiresAt - now) / 1000)) };
}

export function appTokenRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/open-apis/auth/v3/tenant_access_token/internal",
      openPlatform: true,
      handler(req) {
        const checked = checkCredentials(core, req);
        if ("status" in checked) return checked;
        const { token, expire } = issue(core, checked.appId);
        return json(200, { code: 0, msg: "ok", tenant_access_token: token, expire });
      },
    },
    {
      method: "POST",
      pattern: "/open-apis/auth/v3/app_access_token/internal",
      openPlatform: true,
      handler(req) {
        const checked = checkCredentials(core, req);
        if ("status" in checked) return checked;
        // For self-built apps the app token and the tenant token are the same string.
        const { token, expire } = issue(core, checked.appId);
        return json(200, { code: 0, msg: "ok", app_access_token: token, tenant_access_token: token, expire });
      },
    },
  ];
}
