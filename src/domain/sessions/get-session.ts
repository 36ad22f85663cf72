import type { Caller } from "../callers.js";
import type { SessionStore } from "../ports.js";
import { loadSessionFor } from "./load-session.js";
import type { AuthSession } from "./session.js";

/**
 * Loads a session the caller may read. Unknown ids, and sessions of apps where the caller lacks
 * auth:read, are the same SESSION_NOT_FOUND, so the answer does not reveal which ids exist.
 */
export function getSession(
  deps: { sessions: SessionStore },
  caller: Caller,
  id: string,
): Promise<AuthSession> {
  return loadSessionFor(deps, caller, "auth:read", id);
}
