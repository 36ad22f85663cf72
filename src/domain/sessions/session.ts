import type { UserIdentity, UserRef } from "../users.js";

/** Where a session stands; every state but PENDING is final. */
export type SessionState = "PENDING" | "AUTHORIZED" | "DECLINED" | "EXPIRED" | "FAILED" | "CANCELLED";

/** All session states, in the order the contract lists them. */
export const SESSION_STATES: readonly SessionState[] = [
  "PENDING",
  "AUTHORIZED",
  "DECLINED",
  "EXPIRED",
  "FAILED",
  "CANCELLED",
];

/** The OAuth flow that obtains the consent. */
export type AuthFlow = "REDIRECT" | "DEVICE";

/** One attempt to obtain a user's consent for a set of scopes. */
export interface AuthSession {
  readonly id: string;
  readonly appId: string;
  readonly user: UserRef;
  readonly state: SessionState;
  readonly flow: AuthFlow;
  readonly requestedScopes: readonly string[];
  /** The identity of whoever consented (or the resolved card recipient while pending). */
  readonly identity?: UserIdentity;
  readonly failureReason?: string;
  readonly failureMessage?: string;
  readonly createTime: Date;
  readonly expireTime: Date;
  readonly completeTime?: Date;
  readonly cardMessageId?: string;
  readonly authorizeUrl?: string;
  /** The caller's opaque context, echoed back unchanged (at most 1 KiB). */
  readonly context?: string;
  readonly idempotencyKey?: string;
}

/** Session ids are UUIDs; anything else names no session. */
export function isSessionId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** True when the session can still change state. */
export function isPending(session: AuthSession): boolean {
  return session.state === "PENDING";
}
