import * as lark from "@larksuiteoapi/node-sdk";

/** Where one app's Lark lives: the SDK's domain, the Open Platform origin and the accounts origin. */
export interface LarkEndpoints {
  readonly sdkDomain: lark.Domain | string;
  /** Open Platform APIs, including the v2 token endpoint. */
  readonly openBase: string;
  /** The consent page and device authorization (a different host on Feishu and Lark). */
  readonly accountsBase: string;
}

const KNOWN: Record<string, LarkEndpoints> = {
  feishu: {
    sdkDomain: lark.Domain.Feishu,
    openBase: "https://open.feishu.cn",
    accountsBase: "https://accounts.feishu.cn",
  },
  lark: {
    sdkDomain: lark.Domain.Lark,
    openBase: "https://open.larksuite.com",
    accountsBase: "https://accounts.larksuite.com",
  },
};

/**
 * `feishu`, `lark`, or a base URL. A base URL (the emulator, a private deployment) serves the Open
 * Platform and the accounts paths on one origin; the SDK takes it verbatim, so no trailing slash.
 */
export function resolveEndpoints(domain: string): LarkEndpoints {
  const known = KNOWN[domain];
  if (known) return known;
  const base = new URL(domain);
  if (base.protocol !== "https:" && base.protocol !== "http:")
    throw new Error(`Lark domain must be feishu, lark or an http(s) URL, got ${base.protocol}`);
  const origin = `${base.origin}${base.pathname}`.replace(/\/+$/, "");
  return { sdkDomain: origin, openBase: origin, accountsBase: origin };
}

export const AUTHORIZE_PATH = "/open-apis/authen/v1/authorize";
export const TOKEN_PATH = "/open-apis/authen/v2/oauth/token";
export const DEVICE_AUTHORIZATION_PATH = "/oauth/v1/device_authorization";

/** Without it Lark issues no refresh token, and the grant dies with the first access token. */
export const OFFLINE_ACCESS = "offline_access";

/** The requested scopes plus `offline_access`, each once, in the caller's order. */
export function withOfflineAccess(scopes: readonly string[]): string[] {
  return [...new Set([...scopes, OFFLINE_ACCESS])];
}

/** The consent page URL; PKCE S256 always (Lark's default method is `plain`, so it must be named). */
export function authorizeUrl(
  endpoints: LarkEndpoints,
  appId: string,
  req: { redirectUri: string; scopes: readonly string[]; state: string; codeChallenge: string },
): string {
  const url = new URL(`${endpoints.accountsBase}${AUTHORIZE_PATH}`);
  url.searchParams.set("client_id", appId);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("redirect_uri", req.redirectUri);
  url.searchParams.set("scope", withOfflineAccess(req.scopes).join(" "));
  url.searchParams.set("state", req.state);
  url.searchParams.set("code_challenge", req.codeChallenge);
  url.searchParams.set("code_challenge_method", "S256");
  // The docs write scopes space-separated and percent-encoded; `+` (form encoding) only means space to
  // form decoders. A literal `+` in a value is already `%2B` here, so this swap touches spaces only.
  url.search = url.searchParams.toString().replace(/\+/g, "%20");
  return url.toString();
}
