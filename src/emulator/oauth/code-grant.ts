import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import type { EmuRequest, Reply } from "../http/types.js";
import type { AppRecord } from "../store/directory.js";
import type { AuthorizationCode } from "../store/grants.js";
import { oauthError } from "./errors.js";
import { issueUserTokens } from "./issue.js";
import { verifyPkce } from "./pkce.js";
import { narrowScopes } from "./scopes.js";

export type TokenEndpointVersion = "v2" | "v3";

/** The PKCE step: v3 also rejects a verifier for a code that was issued without a challenge. */
function checkPkce(
  code: AuthorizationCode,
  verifier: string,
  version: TokenEndpointVersion,
): Reply | undefined {
  if (!code.codeChallenge) {
    return version === "v3" && verifier
      ? oauthError(20049, "code_verifier sent for a code issued without PKCE.")
      : undefined;
  }
  if (!verifier) return oauthError(20049, "code_verifier is required.");
  if (!verifyPkce(code.codeChallenge, code.codeChallengeMethod ?? "plain", verifier))
    return oauthError(20049);
  return undefined;
}

/**
 * `authorization_code` grant as a list of checks: code known (20003), same client (20024), its grant not
 * revoked since issue (20003: the platform drops such codes with the grant), unused (20065),
 * not expired (20004), same redirect_uri when sent (20071), PKCE (20049), scope narrowing (20067/20068).
 * The code is spent once those checks pass; a retry with the same code then gets 20065.
 */
export function exchangeCode(
  core: EmulatorCore,
  app: AppRecord,
  req: EmuRequest,
  version: TokenEndpointVersion,
): Reply {
  const value = field(req.body, "code");
  if (!value) return oauthError(20001, "code is required.");
  const code = core.grants.codes.get(value);
  if (!code) return oauthError(20003);
  if (code.appId !== app.appId) return oauthError(20024);
  if (!core.grants.isCurrent(code)) {
    // Gone for good, so a retry is "not found" again rather than "already used".
    core.grants.codes.delete(value);
    return oauthError(20003);
  }
  if (code.used) return oauthError(20065);
  if (code.expiresAt <= core.now()) return oauthError(20004);
  const redirectUri = field(req.body, "redirect_uri");
  if (redirectUri && redirectUri !== code.redirectUri) return oauthError(20071);
  const pkce = checkPkce(code, field(req.body, "code_verifier"), version);
  if (pkce) return pkce;
  code.used = true;
  const grant = core.grants.grant(app.appId, code.userKey);
  if (!grant || grant.revoked) return oauthError(20003); // unreachable after isCurrent; keeps types narrow
  const scopes = narrowScopes(field(req.body, "scope"), [...grant.scopes]);
  if (!Array.isArray(scopes)) return oauthError(scopes.code);
  return issueUserTokens(core, grant, scopes);
}
