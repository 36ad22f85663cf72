import type { Client } from "@connectrpc/connect";
import type { TokenService } from "../../gen/lark/auth/v1/token_service_pb.js";
import type { UserRef } from "../../gen/lark/auth/v1/types_pb.js";
import { AuthorizationRequiredError, LarkApiError } from "./errors.js";

/** Lark's answers to a user token it will not take: 99991677 expired, 99991668 invalid (e.g. rotated away). */
const TOKEN_REJECTED = new Set([99991677, 99991668]);

/** What larkFetch adds to a fetch init. */
export interface LarkFetchInit extends RequestInit {
  /** Scopes the token must carry (GetUserAccessToken's required_scopes, and what an authorization asks for). */
  readonly scopes?: readonly string[];
  /** On AUTHORIZATION_REQUIRED / INSUFFICIENT_SCOPE: throw (default) or ask the user and wait. */
  readonly onAuthorizationRequired?: "throw" | "authorize";
}

/** What larkFetch needs from the rest of the client. */
export interface LarkFetchDeps {
  readonly token: Client<typeof TokenService>;
  readonly appId: string;
  readonly larkBaseUrl: string;
  readonly fetch: typeof fetch;
  readonly onAuthorizationRequired: "throw" | "authorize";
  /** Runs an authorization for the user and scopes to its outcome (authorizeAndWait). */
  readonly authorize: (user: UserRef, scopes: readonly string[]) => Promise<unknown>;
}

/** The Lark error code of an answer, when it is one of Lark's JSON error bodies. */
async function larkCode(res: Response): Promise<{ code: number; msg: string } | undefined> {
  if (res.ok || !res.headers.get("content-type")?.includes("json")) return undefined;
  const body = (await res
    .clone()
    .json()
    .catch(() => undefined)) as { code?: unknown; msg?: unknown } | undefined;
  return typeof body?.code === "number" ? { code: body.code, msg: String(body.msg ?? "") } : undefined;
}

/**
 * The URL to call. The user's token goes only to the Lark base URL the client was given: an absolute
 * URL elsewhere is refused rather than sent a token.
 */
function target(base: string, path: string): URL {
  const url = new URL(path, base);
  if (url.origin !== new URL(base).origin) {
    throw new TypeError(`larkFetch only calls ${new URL(base).origin}; got another origin`);
  }
  return url;
}

/**
 * fetch() as the user: gets the user's token from the service and sends it as a Bearer token. When Lark
 * says the token expired (or no longer holds), it refreshes once through the service and retries once;
 * a second refusal is a LarkApiError. Any other answer, error or not, is returned as Lark sent it.
 * The body must be replayable (a string, bytes, form data) for that one retry.
 */
export async function larkFetch(
  deps: LarkFetchDeps,
  user: UserRef,
  path: string,
  init: LarkFetchInit = {},
): Promise<Response> {
  const { scopes = [], onAuthorizationRequired = deps.onAuthorizationRequired, ...request } = init;
  const url = target(deps.larkBaseUrl, path);
  const askingFirst = async <T>(get: () => Promise<T>): Promise<T> => {
    try {
      return await get();
    } catch (err) {
      if (!(err instanceof AuthorizationRequiredError) || onAuthorizationRequired !== "authorize") throw err;
      await deps.authorize(user, scopes);
      return get();
    }
  };
  const signal = request.signal ? { signal: request.signal } : {};
  const send = (accessToken: string) => {
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${accessToken}`);
    return deps.fetch(url, { ...request, headers });
  };

  const first = await askingFirst(() =>
    deps.token.getUserAccessToken({ appId: deps.appId, user, requiredScopes: [...scopes] }, signal),
  );
  const res = await send(first.token?.accessToken ?? "");
  if (!TOKEN_REJECTED.has((await larkCode(res))?.code ?? 0)) return res;

  const refreshed = await askingFirst(() =>
    deps.token.refreshUserAccessToken({ appId: deps.appId, user }, signal),
  );
  const again = await send(refreshed.token?.accessToken ?? "");
  const refused = await larkCode(again);
  if (refused && TOKEN_REJECTED.has(refused.code)) {
    throw new LarkApiError(url.pathname, again.status, refused.code, refused.msg);
  }
  return again;
}
