import type { UserRef } from "../users.js";

/** Always asked for: without it Lark issues no refresh token and the grant dies with its access token. */
export const OFFLINE_ACCESS = "offline_access";

/** The scopes to request: the caller's, without duplicates, plus offline_access. */
export function withOfflineAccess(scopes: readonly string[]): string[] {
  return union(scopes, [OFFLINE_ACCESS]);
}

/**
 * The scope that makes Lark's user_info say the identifier a session was asked by: without it a user
 * named by email or user_id could never be recognised as themselves, and every consent would end
 * USER_MISMATCH. open_id and union_id come back always.
 */
export function identifyingScope(user: UserRef): string | undefined {
  if (user.kind === "email") return "contact:user.email:readonly";
  if (user.kind === "user_id") return "contact:user.employee_id:readonly";
  return undefined;
}

/** The scopes to request for `user`: withOfflineAccess, plus the scope that identifies them. */
export function scopesToRequest(user: UserRef, scopes: readonly string[]): string[] {
  const identifying = identifyingScope(user);
  return identifying === undefined
    ? withOfflineAccess(scopes)
    : union(withOfflineAccess(scopes), [identifying]);
}

/** Every scope of `a`, then those of `b` it lacks; order kept, duplicates dropped. */
export function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** True when `held` includes every scope of `wanted`. */
export function covers(held: readonly string[], wanted: readonly string[]): boolean {
  const set = new Set(held);
  return wanted.every((s) => set.has(s));
}
