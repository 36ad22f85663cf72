import { assertCan, type Caller } from "../callers.js";
import type { UserRef } from "../users.js";
import type { GrantChanges, GrantStore } from "./grant.js";

/** How long a revoke waits for the change signal to reach the replicas before answering. */
const SETTLE_MS = 1000;

/**
 * RevokeUserAuthorization: delete the grant and append AUTHORIZATION_REVOKED in one transaction, then
 * wait (briefly, best effort) until the change signal went out, so no replica serves the old token after
 * the caller got the answer.
 *
 * Nothing is revoked at Lark because Lark offers nothing to call: its docs and the node-sdk have no
 * revocation endpoint for user_access_token or refresh_token (reference §3.5; Lark's own clients log
 * out by deleting their stored tokens, and passport/v1/sessions/logout ends client sessions, not OAuth
 * grants). Deleting the row destroys the only copy of the refresh token, so it is never used again: a
 * refresh in flight loses its fence (the row is gone) and stores nothing, and no claim can find the row.
 * The access token already handed out stays valid at Lark until its own expiry.
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
