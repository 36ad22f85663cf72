import type { EmulatorCore } from "../core.js";
import { randomUrlSafe } from "../ids.js";
import type { AppRecord, UserRecord } from "../store/directory.js";
import { splitScopes } from "./scopes.js";

/** A validated authorize request. */
export interface AuthorizeRequest {
  app: AppRecord;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  codeChallenge?: string;
  codeChallengeMethod: "S256" | "plain";
}

/** Why the authorize page shows an error instead of consent (never redirected: the redirect is untrusted). */
export interface AuthorizeProblem {
  code: number;
  message: string;
}

const MAX_SCOPES = 50;

/** Validates the authorize query the way the real page does before showing consent. */
export function parseAuthorize(
  core: EmulatorCore,
  query: URLSearchParams,
): AuthorizeRequest | AuthorizeProblem {
  const app = core.directory.app(query.get("client_id") ?? "");
  if (!app) return { code: 20048, message: "The app does not exist (client_id)." };
  if (query.get("response_type") !== "code") return { code: 20001, message: "response_type must be code." };
  const redirectUri = query.get("redirect_uri") ?? "";
  if (!redirectUri) return { code: 20001, message: "redirect_uri is required." };
  if (app.redirectUrls.length > 0 && !app.redirectUrls.includes(redirectUri)) {
    return { code: 20029, message: "redirect_uri is not in the app's redirect URL list." };
  }
  const scopes = splitScopes(query.get("scope") ?? "");
  if (scopes.length > MAX_SCOPES)
    return { code: 20001, message: `At most ${MAX_SCOPES} scopes per request.` };
  const disabled = app.scopes ? scopes.filter((s) => !app.scopes?.includes(s)) : [];
  if (disabled.length > 0)
    return { code: 20027, message: `Scopes not enabled for the app: ${disabled.join(" ")}` };
  const method = query.get("code_challenge_method") ?? "plain";
  if (method !== "S256" && method !== "plain")
    return { code: 20001, message: "code_challenge_method must be S256 or plain." };
  return {
    app,
    redirectUri,
    scopes,
    state: query.get("state"),
    codeChallenge: query.get("code_challenge") || undefined,
    codeChallengeMethod: method,
  };
}

/** Builds `redirect_uri` plus the answer; URL keeps any `#fragment` after the query, as Lark does. */
export function redirectWith(request: AuthorizeRequest, params: Record<string, string>): string {
  const url = new URL(request.redirectUri);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  if (request.state !== null) url.searchParams.set("state", request.state);
  return url.toString();
}

/**
 * The user's decision: approving records the (cumulative) grant and issues a single-use code valid for
 * the configured lifetime; denying redirects with `error=access_denied`.
 */
export function decideAuthorize(
  core: EmulatorCore,
  request: AuthorizeRequest,
  user: UserRecord,
  approve: boolean,
): string {
  if (!approve) return redirectWith(request, { error: "access_denied" });
  const now = core.now();
  const grant = core.grants.approve(request.app.appId, user.key, request.scopes, now);
  const code = randomUrlSafe(64);
  core.grants.codes.set(code, {
    code,
    appId: request.app.appId,
    userKey: user.key,
    scopes: [...grant.scopes],
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    expiresAt: now + core.config.codeTtlSeconds * 1000,
    used: false,
    epoch: grant.epoch,
  });
  return redirectWith(request, { code });
}

export const isProblem = (value: AuthorizeRequest | AuthorizeProblem): value is AuthorizeProblem =>
  "code" in value;
