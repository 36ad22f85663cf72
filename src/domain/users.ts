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
