import { assertCan, type Caller } from "../callers.js";
import { DomainError, DomainErrorCode } from "../errors.js";
import type { SessionStore } from "../ports.js";
import type { AuthSession } from "./session.js";

/** Loads a session the caller may read; unknown ids are SESSION_NOT_FOUND. */
export async function getSession(
  deps: { sessions: SessionStore },
  caller: Caller,
  id: string,
): Promise<AuthSession> {
  const session = await deps.sessions.get(id);
  if (!session) {
    throw new DomainError(DomainErrorCode.SESSION_NOT_FOUND, `auth session ${id} not found`, {
      metadata: { session_id: id },
    });
  }
  assertCan(caller, "auth:read", session.appId);
  return session;
}
