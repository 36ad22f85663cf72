/** Splits a space-separated scope string, keeping order and dropping empties. */
export function splitScopes(scope: string): string[] {
  return scope.split(/\s+/).filter((s) => s.length > 0);
}

/**
 * Applies the optional `scope` narrowing parameter: duplicates are 20067, scopes outside the grant 20068.
 * Without the parameter the token carries everything granted.
 */
export function narrowScopes(param: string, granted: string[]): string[] | { code: 20067 | 20068 } {
  if (param.trim() === "") return granted;
  const asked = splitScopes(param);
  if (new Set(asked).size !== asked.length) return { code: 20067 };
  if (asked.some((s) => !granted.includes(s))) return { code: 20068 };
  return asked;
}

export const hasOfflineAccess = (scopes: string[]): boolean => scopes.includes("offline_access");
