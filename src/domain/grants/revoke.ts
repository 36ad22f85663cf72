import { assertCan, type Caller } from "../callers.js";
import type { UserRef } from "../users.js";
import type { GrantChanges, GrantStore } from "./grant.js";

/** How long a revoke waits for the change signal to reach the replicas before answering. */
const SETTLE_MS = 1000;

/**
 * RevokeUserAuthorization: delete the grant and append AUTHORIZATION_REVOKED in one transaction, then
 * wait (briefly, best effort) until the change signal went out, so no replica serves the old token after
 * the caller got the answer. Lark documents no revocation endpoint for user tokens (reference §3.5): the
 * stored refresh token is destroyed with the row, so the old access token dies at its own expiry.
 */
export async function revokeUserAuthorization(
  deps: { store: Pick<GrantStore, "revoke">; changes: GrantChanges },
  caller: Caller,
  req: { appId: string; user: UserRef },
): Promise<boolean> {
  assertCan(caller, "token:revoke", req.appId);
  const revoked = await deps.store.revoke(req.appId, req.user);
  if (revoked) await deps.changes.settle(SETTLE_MS);
  return revoked !== undefined;
}
