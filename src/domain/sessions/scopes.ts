/** Always asked for: without it Lark issues no refresh token and the grant dies with its access token. */
export const OFFLINE_ACCESS = "offline_access";

/** The scopes to request: the caller's, without duplicates, plus offline_access. */
export function withOfflineAccess(scopes: readonly string[]): string[] {
  return union(scopes, [OFFLINE_ACCESS]);
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
