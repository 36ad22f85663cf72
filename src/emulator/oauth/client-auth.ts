import type { EmulatorCore } from "../core.js";
import { field, parseBasicAuth } from "../http/body.js";
import type { EmuRequest, Reply } from "../http/types.js";
import type { AppRecord } from "../store/directory.js";
import { oauthError } from "./errors.js";

/**
 * Client authentication for the token endpoints: `client_id` + `client_secret` in the body, or HTTP Basic.
 * Both at once is 20070; a Bearer header (which `client.request` adds) is ignored.
 */
export function authenticateClient(core: EmulatorCore, req: EmuRequest): AppRecord | Reply {
  const basic = parseBasicAuth(req.headers.authorization);
  const bodySecret = field(req.body, "client_secret");
  if (basic && bodySecret) return oauthError(20070);
  const id = basic?.id ?? field(req.body, "client_id");
  const secret = basic?.secret ?? bodySecret;
  if (!id || !secret) return oauthError(20001, "client_id and client_secret are required.");
  const app = core.directory.app(id);
  if (!app) return oauthError(20048);
  if (app.appSecret !== secret) return oauthError(20002);
  return app;
}
