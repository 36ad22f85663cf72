import { json } from "../http/reply.js";
import type { Reply } from "../http/types.js";

/** The token endpoint's documented codes with their HTTP status and RFC 6749 `error` string. */
const TABLE: Record<number, [status: number, error: string, description: string]> = {
  20001: [400, "invalid_request", "The request is missing a required parameter."],
  20002: [400, "invalid_client", "The client secret is invalid."],
  20003: [400, "invalid_grant", "The authorization code is not found."],
  20004: [400, "invalid_grant", "The authorization code has expired."],
  20008: [400, "invalid_grant", "The user does not exist."],
  20024: [400, "invalid_grant", "The authorization code or refresh token was issued to another client."],
  20026: [400, "invalid_grant", "The refresh token is invalid."],
  20036: [400, "unsupported_grant_type", "The grant type is not supported."],
  20037: [400, "invalid_grant", "The refresh token has expired."],
  20048: [400, "invalid_client", "The app does not exist."],
  20049: [400, "invalid_grant", "PKCE verification failed."],
  20050: [500, "server_error", "An internal server error occurred, please retry."],
  20063: [400, "invalid_request", "The request is malformed."],
  20064: [400, "invalid_grant", "The refresh token has been revoked."],
  20065: [400, "invalid_grant", "The authorization code has already been used."],
  20067: [400, "invalid_scope", "The scope contains duplicate values."],
  20068: [400, "invalid_scope", "The scope contains scopes that were not granted."],
  20070: [
    400,
    "invalid_request",
    "Client credentials were supplied both in the Authorization header and the body.",
  ],
  20071: [400, "invalid_grant", "The redirect_uri does not match the authorization request."],
  20072: [503, "temporarily_unavailable", "The server is temporarily unavailable, please retry."],
  20073: [400, "invalid_grant", "The refresh token has already been used."],
};

/** `{code, error, error_description}` with the code's HTTP status. */
export function oauthError(code: number, description?: string): Reply {
  const [status, error, text] = TABLE[code] ?? [400, "invalid_request", "The request is invalid."];
  return json(status, { code, error, error_description: description ?? text });
}

/** RFC 8628 answers while polling with a device code (no Lark numeric code is documented for these). */
export function deviceError(
  error: "authorization_pending" | "slow_down" | "access_denied" | "expired_token" | "invalid_grant",
  description: string,
): Reply {
  return json(400, { error, error_description: description });
}

/** HTTP status a fault with this Lark code uses when the fault does not name one. */
export function defaultStatusFor(code: number): number {
  if (code === 99991400) return 429;
  const entry = TABLE[code];
  return entry ? entry[0] : 400;
}

/** Body a fault with this Lark code answers on the OAuth token endpoints. */
export function oauthFaultBody(code: number, msg?: string): Record<string, unknown> {
  const entry = TABLE[code];
  return {
    code,
    error: entry?.[1] ?? "invalid_request",
    error_description: msg ?? entry?.[2] ?? "fault injected",
  };
}
