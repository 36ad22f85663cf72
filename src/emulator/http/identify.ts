import type { EmulatorCore } from "../core.js";
import { field, parseBasicAuth, parseBearer } from "./body.js";
import type { EmuRequest } from "./types.js";

/**
 * Which app a request is made for, best effort, so that calls are counted and faults and rate limits
 * applied per app even before (or without) the handler authenticating it.
 */
export function identifyApp(core: EmulatorCore, req: EmuRequest): string | undefined {
  const named = field(req.body, "client_id") || field(req.body, "app_id") || field(req.body, "AppID");
  if (named) return named;
  const fromQuery = req.query.get("client_id");
  if (fromQuery) return fromQuery;
  const basic = parseBasicAuth(req.headers.authorization);
  if (basic) return basic.id;
  const bearer = parseBearer(req.headers.authorization);
  if (!bearer) return undefined;
  return core.tenantTokens.ownerOf(bearer) ?? core.grants.accessTokens.get(bearer)?.appId;
}
