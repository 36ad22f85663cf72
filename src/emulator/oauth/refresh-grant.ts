import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import type { EmuRequest, Reply } from "../http/types.js";
import type { AppRecord } from "../store/directory.js";
import { oauthError } from "./errors.js";
import { issueUserTokens } from "./issue.js";
import { narrowScopes } from "./scopes.js";

/**
 * `refresh_token` grant: known (20026), same client (20024), grant not revoked (20064), not yet used
 * (20073), not expired and grant younger than the 365-day limit (20037). Success kills the old refresh
 * token at once and returns a new one; the old access token lives on until its own expiry.
 */
export function refresh(core: EmulatorCore, app: AppRecord, req: EmuRequest): Reply {
  const value = field(req.body, "refresh_token");
  if (!value) return oauthError(20001, "refresh_token is required.");
  const record = core.grants.refreshTokens.get(value);
  if (!record) return oauthError(20026);
  if (record.appId !== app.appId) return oauthError(20024);
  const grant = core.grants.grant(app.appId, record.userKey);
  if (!grant || !core.grants.isCurrent(record)) return oauthError(20064);
  if (record.used) return oauthError(20073);
  const now = core.now();
  if (record.expiresAt <= now) return oauthError(20037);
  if (now - grant.grantedAt > core.config.grantMaxAgeSeconds * 1000) return oauthError(20037);
  const scopes = narrowScopes(field(req.body, "scope"), [...grant.scopes]);
  if (!Array.isArray(scopes)) return oauthError(scopes.code);
  record.used = true;
  return issueUserTokens(core, grant, scopes);
}
