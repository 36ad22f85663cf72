/** How a caller names a Lark user: exactly one identifier kind. */
export type UserIdKind = "open_id" | "user_id" | "union_id" | "email";

/** A reference to one Lark user of an app. */
export interface UserRef {
  readonly kind: UserIdKind;
  readonly value: string;
}

/** Everything the service may know about a user after an authorization. */
export interface UserIdentity {
  readonly openId: string;
  readonly userId?: string;
  readonly unionId?: string;
  readonly tenantKey?: string;
  readonly name?: string;
  readonly enName?: string;
  readonly email?: string;
  readonly mobile?: string;
  readonly avatarUrl?: string;
}

/** True when `identity` is the user `ref` names (by the identifier kind the ref uses; emails case-insensitively). */
export function identityMatches(ref: UserRef, identity: UserIdentity): boolean {
  switch (ref.kind) {
    case "open_id":
      return identity.openId === ref.value;
    case "user_id":
      return identity.userId === ref.value;
    case "union_id":
      return identity.unionId === ref.value;
    case "email":
      return identity.email?.toLowerCase() === ref.value.toLowerCase();
  }
}

/** True when two references name the same user the same way (emails compare case-insensitively). */
export function sameUserRef(a: UserRef, b: UserRef): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind === "email" ? a.value.toLowerCase() === b.value.toLowerCase() : a.value === b.value;
}
