import type { Caller } from "../callers.js";
import type { Clock, LarkGateway } from "../ports.js";
import type { UserIdentity, UserRef } from "../users.js";
import {
  type GetTokenDeps,
  getUserAccessToken,
  refreshUserAccessToken,
  type TokenRequest,
} from "./get-token.js";
import type { GrantChanges, GrantStore, StoredGrant } from "./grant.js";
import { revokeUserAuthorization } from "./revoke.js";
import { createTenantTokens, type TenantToken } from "./tenant-token.js";
import { getUserInfo } from "./user-info.js";

/** Everything TokenService does, as the RPC handlers call it. `waitMs` bounds any wait on a refresh. */
export interface TokenUseCases {
  getUserAccessToken(caller: Caller, req: TokenRequest, waitMs: number): Promise<StoredGrant>;
  refreshUserAccessToken(
    caller: Caller,
    req: { appId: string; user: UserRef },
    waitMs: number,
  ): Promise<StoredGrant>;
  revokeUserAuthorization(caller: Caller, req: { appId: string; user: UserRef }): Promise<boolean>;
  getUserInfo(
    caller: Caller,
    req: { appId: string; user: UserRef; refresh: boolean },
    waitMs: number,
  ): Promise<UserIdentity>;
  getTenantAccessToken(caller: Caller, appId: string): Promise<TenantToken>;
}

export interface TokenServiceDeps extends GetTokenDeps {
  readonly store: GrantStore;
  readonly changes: GrantChanges;
  readonly lark: Pick<LarkGateway, "getUserInfo" | "getTenantAccessToken">;
  readonly clock: Clock;
}

/** The token use cases over their ports; built once in app.ts. */
export function createTokenUseCases(deps: TokenServiceDeps): TokenUseCases {
  const tenant = createTenantTokens({ lark: deps.lark, clock: deps.clock });
  return {
    getUserAccessToken: (caller, req, waitMs) => getUserAccessToken(deps, caller, req, waitMs),
    refreshUserAccessToken: (caller, req, waitMs) => refreshUserAccessToken(deps, caller, req, waitMs),
    revokeUserAuthorization: (caller, req) => revokeUserAuthorization(deps, caller, req),
    getUserInfo: (caller, req, waitMs) => getUserInfo(deps, caller, req, waitMs),
    getTenantAccessToken: (caller, appId) => tenant.get(caller, appId),
  };
}
