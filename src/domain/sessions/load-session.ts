import { assertCan, type Caller, type Permission } from "../callers.js";
import { bounded, DomainError, DomainErrorCode } from "../errors.js";
import type { SessionStore } from "../ports.js";
import type { AuthSession } from "./session.js";

/** The answer for an id that names no session the caller may know of: the same whichever it is. */
function sessionNotFound(id: string): DomainError {
  const shown = bounded(id);
  return new DomainError(DomainErrorCode.SESSION_NOT_FOUND, `auth session ${shown} not found`, {
    metadata: { session_id: shown },
  });
}

/**
 * Loads session `id` for an action that needs `permission` on its app. Every by-id use case goes
 * through here so none becomes an existence oracle: a caller holding neither auth:read nor
 * `permission` on the session's app gets exactly the unknown-id answer. One that may see the
 * session but not do this to it is PERMISSION_DENIED, which tells it nothing new.
 */
export async function loadSessionFor(
  deps: { sessions: SessionStore },
  caller: Caller,
  permission: Permission,
  id: string,
): Promise<AuthSession> {
  const session = await deps.sessions.get(id);
  if (!session) throw sessionNotFound(id);
  const visible = caller.can("auth:read", session.appId) || caller.can(permission, session.appId);
  if (!visible) throw sessionNotFound(id);
  assertCan(caller, permission, session.appId);
  return session;
}
