import { assertCan, type Caller } from "../callers.js";
import type { LarkGateway } from "../ports.js";
import type { UserIdentity, UserRef } from "../users.js";
import { type GetTokenDeps, getUserAccessToken } from "./get-token.js";
import type { GrantStore } from "./grant.js";
import { authorizationRequired } from "./grant-errors.js";

export interface UserInfoDeps extends GetTokenDeps {
  readonly store: Pick<GrantStore, "updateIdentity" | "find">;
  readonly lark: Pick<LarkGateway, "getUserInfo">;
}

/**
 * GetUserInfo: the stored identity; with `refresh`, re-fetched from Lark with the user's own (fresh)
 * token and stored. Lark answering for another user than the grant's is refused, never stored.
 */
export async function getUserInfo(
  deps: UserInfoDeps,
  caller: Caller,
  req: { appId: string; user: UserRef; refresh: boolean },
  waitMs: number,
): Promise<UserIdentity> {
  assertCan(caller, "token:read", req.appId);
  if (!req.refresh) {
    const grant = await deps.cache.get(req.appId, req.user);
    if (!grant) throw authorizationRequired(req.appId, "NO_GRANT");
    return grant.identity;
  }
  const request = { appId: req.appId, user: req.user, requiredScopes: [], minValidSeconds: 60 };
  const grant = await getUserAccessToken(deps, caller, request, waitMs);
  const fetched = await deps.lark.getUserInfo(req.appId, grant.accessToken);
  if (fetched.openId !== grant.identity.openId) throw authorizationRequired(req.appId, "USER_MISMATCH");
  await deps.store.updateIdentity(grant.id, fetched);
  return fetched;
}
