import { type Client, createClient } from "@connectrpc/connect";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { TokenService } from "../../gen/lark/auth/v1/token_service_pb.js";
import type { UserRef } from "../../gen/lark/auth/v1/types_pb.js";
import { type Authorization, type AuthorizeOptions, authorizeAndWait } from "./authorize.js";
import { type LarkFetchInit, larkFetch } from "./lark-fetch.js";
import { type ConnectionOptions, createTransport } from "./transport.js";
import { type User, userRef } from "./user.js";

/** Everything a Node service needs to call lark-auth-service, in one object. */
export interface LarkAuthClientOptions extends ConnectionOptions {
  /** The Lark app the helpers act for (`cli_…`). */
  readonly appId: string;
  /** Where larkFetch sends calls: `https://open.feishu.cn` (default), `https://open.larksuite.com`, or an emulator. */
  readonly larkBaseUrl?: string;
  /** larkFetch's default on AUTHORIZATION_REQUIRED: throw AuthorizationRequiredError (default) or authorize and wait. */
  readonly onAuthorizationRequired?: "throw" | "authorize";
  /** The fetch larkFetch uses (default: the global one). */
  readonly fetch?: typeof fetch;
}

export interface LarkAuthClient {
  /** AuthService, typed from the contract; unary calls get the deadline, retries and typed errors. */
  readonly auth: Client<typeof AuthService>;
  /** TokenService, the same way. */
  readonly token: Client<typeof TokenService>;
  /** Asks `user` to consent to `scopes` and waits for the outcome (see authorize.ts). */
  authorizeAndWait(user: User, scopes: readonly string[], options?: AuthorizeOptions): Promise<Authorization>;
  /** fetch() against the Lark Open Platform as `user` (see lark-fetch.ts). */
  larkFetch(user: User, path: string, init?: LarkFetchInit): Promise<Response>;
}

export function createLarkAuthClient(options: LarkAuthClientOptions): LarkAuthClient {
  const transport = createTransport(options);
  const auth = createClient(AuthService, transport);
  const token = createClient(TokenService, transport);
  const fetchDeps = {
    token,
    appId: options.appId,
    larkBaseUrl: options.larkBaseUrl ?? "https://open.feishu.cn",
    fetch: options.fetch ?? fetch,
    onAuthorizationRequired: options.onAuthorizationRequired ?? "throw",
    authorize: (user: UserRef, scopes: readonly string[]) =>
      authorizeAndWait(auth, options.appId, user, scopes),
  } as const;
  return {
    auth,
    token,
    authorizeAndWait: (user, scopes, opts) =>
      authorizeAndWait(auth, options.appId, userRef(user), scopes, opts),
    larkFetch: (user, path, init) => larkFetch(fetchDeps, userRef(user), path, init),
  };
}
