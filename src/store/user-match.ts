import { type FilterQuery, raw } from "@mikro-orm/postgresql";
import type { UserRef } from "../domain/users.js";
import type { IAuthSession, IUserGrant } from "./entities/index.js";

/** The resolved identity column a user reference of each kind can also match. */
const IDENTITY_COLUMN = {
  open_id: "openId",
  user_id: "userId",
  union_id: "unionId",
  email: "email",
} as const;

/**
 * Sessions asked for this user, or resolved to them (asked by email, resolved to an open_id).
 * Emails compare case-insensitively, as identityMatches does. ListAuthSessions filters by it too.
 */
export function sessionsOfUser(user: UserRef): FilterQuery<IAuthSession> {
  if (user.kind === "email") {
    const email = user.value.toLowerCase();
    return {
      $or: [
        { requestedUserKind: "email", [raw("lower(requested_user_value)")]: email },
        { [raw("lower(email)")]: email },
      ],
    };
  }
  return {
    $or: [
      { requestedUserKind: user.kind, requestedUserValue: user.value },
      { [IDENTITY_COLUMN[user.kind]]: user.value },
    ],
  };
}

/** Sessions asked for exactly this reference (the rate limit counts what callers asked for). */
export function sessionsRequestedFor(user: UserRef): FilterQuery<IAuthSession> {
  if (user.kind === "email") {
    return { requestedUserKind: "email", [raw("lower(requested_user_value)")]: user.value.toLowerCase() };
  }
  return { requestedUserKind: user.kind, requestedUserValue: user.value };
}

/** The grant of the user this reference names. */
export function grantOfUser(user: UserRef): FilterQuery<IUserGrant> {
  if (user.kind === "email") return { [raw("lower(email)")]: user.value.toLowerCase() };
  return { [IDENTITY_COLUMN[user.kind]]: user.value };
}

/** One advisory-lock key per (app, user reference); emails fold case so two spellings share a lock. */
export function userLockKey(appId: string, user: UserRef): string {
  const value = user.kind === "email" ? user.value.toLowerCase() : user.value;
  return `lark_auth.user:${appId}:${user.kind}:${value}`;
}
