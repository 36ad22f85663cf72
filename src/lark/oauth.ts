// The SDK 1.74.0 has no method for the v2 token endpoint or device authorization (its `accessToken`
// helper targets v3, which the docs say not to use with PKCE yet), so these calls go through the
// client's own `httpInstance` (the SDK's axios instance: same agent, user agent and interceptors),
// without the tenant token `client.request` would attach.
import { LarkError } from "../domain/lark-error.js";
import type { LarkDeviceAuthorization, LarkDevicePoll, LarkUserTokens } from "../domain/ports.js";
import type { LarkApp } from "./clients.js";
import { DEVICE_AUTHORIZATION_PATH, TOKEN_PATH, withOfflineAccess } from "./endpoints.js";
import { ensureOk, larkAnswerError, toLarkError } from "./errors.js";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

interface TokenBody {
  code?: number;
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  refresh_token_expires_in?: unknown;
  scope?: unknown;
}

function tokensOf(operation: string, body: TokenBody): LarkUserTokens {
  ensureOk(operation, body);
  if (typeof body.access_token !== "string" || typeof body.expires_in !== "number")
    throw larkAnswerError(
      operation,
      { code: 0, msg: "token answer without access_token or expires_in" },
      200,
    );
  const refreshToken = typeof body.refresh_token === "string" ? body.refresh_token : undefined;
  const refreshExpiresIn =
    typeof body.refresh_token_expires_in === "number" ? body.refresh_token_expires_in : undefined;
  return {
    accessToken: body.access_token,
    expiresIn: body.expires_in,
    scopes: typeof body.scope === "string" ? body.scope.split(" ").filter(Boolean) : [],
    ...(refreshToken === undefined ? {} : { refreshToken }),
    ...(refreshExpiresIn === undefined ? {} : { refreshExpiresIn }),
  };
}

/** POSTs to the v2 token endpoint with the app's credentials in the body (documented JSON form). */
async function tokenRequest(app: LarkApp, operation: string, grant: Record<string, string>) {
  const body = {
    ...grant,
    client_id: app.config.appId,
    client_secret: app.config.appSecret,
  };
  try {
    return (await app.client.httpInstance.post(`${app.endpoints.openBase}${TOKEN_PATH}`, body, {
      headers: { "content-type": "application/json; charset=utf-8" },
    })) as TokenBody;
  } catch (err) {
    throw toLarkError(operation, err);
  }
}

export async function exchangeCode(
  app: LarkApp,
  req: { code: string; redirectUri: string; codeVerifier: string },
): Promise<LarkUserTokens> {
  const grant = {
    grant_type: "authorization_code",
    code: req.code,
    redirect_uri: req.redirectUri,
    code_verifier: req.codeVerifier,
  };
  return tokensOf("code exchange", await tokenRequest(app, "code exchange", grant));
}

export async function refreshToken(app: LarkApp, refresh: string): Promise<LarkUserTokens> {
  const grant = { grant_type: "refresh_token", refresh_token: refresh };
  return tokensOf("token refresh", await tokenRequest(app, "token refresh", grant));
}

/** RFC 8628 start on the accounts host: form body, HTTP Basic client auth (as Lark's own tools do). */
export async function startDeviceAuthorization(
  app: LarkApp,
  scopes: readonly string[],
): Promise<LarkDeviceAuthorization> {
  const basic = Buffer.from(`${app.config.appId}:${app.config.appSecret}`).toString("base64");
  const form = new URLSearchParams({
    client_id: app.config.appId,
    scope: withOfflineAccess(scopes).join(" "),
  });
  let body: Record<string, unknown>;
  try {
    body = await app.client.httpInstance.post(
      `${app.endpoints.accountsBase}${DEVICE_AUTHORIZATION_PATH}`,
      form.toString(),
      {
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` },
      },
    );
  } catch (err) {
    throw toLarkError("device authorization", err);
  }
  const { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval } = body;
  if (
    typeof device_code !== "string" ||
    typeof user_code !== "string" ||
    typeof verification_uri !== "string"
  )
    throw larkAnswerError("device authorization", body, 200);
  return {
    deviceCode: device_code,
    userCode: user_code,
    verificationUri: verification_uri,
    verificationUriComplete:
      typeof verification_uri_complete === "string" ? verification_uri_complete : verification_uri,
    expiresIn: typeof expires_in === "number" ? expires_in : 240,
    interval: typeof interval === "number" ? interval : 5,
  };
}

/** The RFC 8628 answers that are states of the authorization rather than failures of the call. */
const POLL_STATES = new Map<string, LarkDevicePoll>([
  ["authorization_pending", { status: "pending" }],
  ["slow_down", { status: "slow_down" }],
  ["access_denied", { status: "denied" }],
  ["expired_token", { status: "expired" }],
]);

export async function pollDeviceToken(app: LarkApp, deviceCode: string): Promise<LarkDevicePoll> {
  const grant = { grant_type: DEVICE_GRANT, device_code: deviceCode };
  try {
    const tokens = tokensOf("device poll", await tokenRequest(app, "device poll", grant));
    return { status: "authorized", tokens };
  } catch (err) {
    const state = err instanceof LarkError && err.oauthError ? POLL_STATES.get(err.oauthError) : undefined;
    if (state) return state;
    throw err;
  }
}
