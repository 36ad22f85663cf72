import type { EmulatorCore } from "../core.js";
import { json } from "../http/reply.js";
import type { Reply } from "../http/types.js";
import { newJwtLikeToken } from "../ids.js";
import type { Grant } from "../store/grants.js";
import { hasOfflineAccess } from "./scopes.js";

/**
 * Mints a user access token (and, only when the grant includes `offline_access`, a refresh token) and
 * answers the v2/v3 token body. The refresh token carries the whole grant: narrowing with `scope` affects
 * only the access token and does not accumulate across refreshes.
 */
export function issueUserTokens(core: EmulatorCore, grant: Grant, tokenScopes: string[]): Reply {
  const now = core.now();
  const { accessTokenTtlSeconds: accessTtl, refreshTokenTtlSeconds: refreshTtl } = core.config;
  const granted = [...grant.scopes];
  const claims = { app_id: grant.appId, iat: Math.floor(now / 1000) };
  const accessToken = newJwtLikeToken({ ...claims, typ: "access" });
  core.grants.accessTokens.set(accessToken, {
    appId: grant.appId,
    userKey: grant.userKey,
    scopes: tokenScopes,
    expiresAt: now + accessTtl * 1000,
    epoch: grant.epoch,
  });
  const body: Record<string, unknown> = {
    code: 0,
    access_token: accessToken,
    expires_in: Math.ceil(accessTtl),
  };
  if (hasOfflineAccess(granted)) {
    const refreshToken = newJwtLikeToken({ ...claims, typ: "refresh" });
    core.grants.refreshTokens.set(refreshToken, {
      appId: grant.appId,
      userKey: grant.userKey,
      scopes: granted,
      expiresAt: now + refreshTtl * 1000,
      epoch: grant.epoch,
      used: false,
    });
    body.refresh_token = refreshToken;
    body.refresh_token_expires_in = Math.ceil(refreshTtl);
  }
  body.scope = tokenScopes.join(" ");
  body.token_type = "Bearer";
  return json(200, body);
}
