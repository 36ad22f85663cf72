// A LarkGateway for the flow's tests, speaking plain HTTP to the emulator's real Open Platform paths
// (the node-sdk gateway in src/lark/ is someone else's; this keeps the use cases' tests independent of it).
import { LarkError, type LarkGateway, type LarkTokens } from "../../src/domain/ports.js";
import type { UserIdentity } from "../../src/domain/users.js";
import type { AppView, RunningEmulator } from "../../src/emulator/index.js";

type Json = Record<string, unknown>;

function unused(name: string): never {
  throw new Error(`emulator gateway: ${name} is not used by these tests`);
}

/** Lark's retryable answers: any 5xx, 20050 (server error), 20072 (temporarily unavailable). */
function larkError(status: number, body: Json): LarkError {
  const code = typeof body.code === "number" ? body.code : -1;
  const transient = status >= 500 || code === 20050 || code === 20072;
  return new LarkError(code, transient ? "transient" : "terminal", `Lark answered ${status}/${code}`, status);
}

async function call(url: string, init: RequestInit): Promise<Json> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: Json = {};
  try {
    body = text ? (JSON.parse(text) as Json) : {};
  } catch {
    // A bare error page: the status decides.
  }
  if (res.status !== 200 || (typeof body.code === "number" && body.code !== 0))
    throw larkError(res.status, body);
  return body;
}

export function emulatorGateway(emulator: RunningEmulator, apps: readonly AppView[]): LarkGateway {
  const secretOf = (appId: string) => apps.find((a) => a.app_id === appId)?.app_secret ?? "";
  return {
    sendCard: () => unused("sendCard"),
    updateCard: () => unused("updateCard"),
    startDeviceAuthorization: () => unused("startDeviceAuthorization"),
    pollDeviceToken: () => unused("pollDeviceToken"),
    buildAuthorizeUrl(appId, p) {
      const url = new URL("/open-apis/authen/v1/authorize", emulator.url);
      url.searchParams.set("client_id", appId);
      url.searchParams.set("response_type", "code");
      url.searchParams.set("redirect_uri", p.redirectUri);
      url.searchParams.set("scope", p.scopes.join(" "));
      url.searchParams.set("state", p.state);
      url.searchParams.set("code_challenge", p.codeChallenge);
      url.searchParams.set("code_challenge_method", "S256");
      return url.toString();
    },
    async exchangeCode(appId, p): Promise<LarkTokens> {
      const body = await call(`${emulator.url}/open-apis/authen/v2/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "authorization_code",
          client_id: appId,
          client_secret: secretOf(appId),
          code: p.code,
          redirect_uri: p.redirectUri,
          code_verifier: p.codeVerifier,
        }),
      });
      return {
        accessToken: String(body.access_token),
        ...(typeof body.refresh_token === "string" && { refreshToken: body.refresh_token }),
        expiresIn: Number(body.expires_in),
        ...(typeof body.refresh_token_expires_in === "number" && {
          refreshExpiresIn: body.refresh_token_expires_in,
        }),
        scope: String(body.scope ?? ""),
      };
    },
    async getUserInfo(_appId, accessToken): Promise<UserIdentity> {
      const body = await call(`${emulator.url}/open-apis/authen/v1/user_info`, {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      const d = (body.data ?? {}) as Record<string, string | undefined>;
      return Object.fromEntries(
        Object.entries({
          openId: d.open_id,
          unionId: d.union_id,
          userId: d.user_id,
          tenantKey: d.tenant_key,
          name: d.name,
          enName: d.en_name,
          email: d.email,
          mobile: d.mobile,
          avatarUrl: d.avatar_url,
        }).filter(([, v]) => v !== undefined && v !== ""),
      ) as unknown as UserIdentity;
    },
  };
}
