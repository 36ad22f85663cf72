import type { AuthSession, SessionState } from "./sessions/session.js";
import type { UserIdentity, UserRef } from "./users.js";

/** Filters for listing sessions; all given filters must match. */
export interface SessionQuery {
  readonly appId: string;
  readonly user?: UserRef;
  readonly states?: readonly SessionState[];
}

/** A keyset position in the newest-first session order. */
export interface SessionCursor {
  readonly createTime: Date;
  readonly id: string;
}

/** One page of sessions and the position after its last row, if more may follow. */
export interface SessionPage {
  readonly sessions: readonly AuthSession[];
  readonly next?: SessionCursor;
}

/**
 * Durable storage of auth sessions.
 * - `get` returns `undefined` for an unknown id (never throws for a miss).
 * - `list` orders by create time then id, newest first, and is stable under inserts
 *   (keyset pagination), so a page never repeats or skips a row.
 */
export interface SessionStore {
  get(id: string): Promise<AuthSession | undefined>;
  list(query: SessionQuery, limit: number, after?: SessionCursor): Promise<SessionPage>;
  insert(session: AuthSession): Promise<void>;
}

/** The source of time; injected so tests control it. */
export interface Clock {
  now(): Date;
}

/** A Lark interactive card (JSON 2.0 or a template reference), exactly as Lark receives it. */
export type LarkCard = Readonly<Record<string, unknown>>;

/** User tokens from Lark's token endpoint. Times are seconds from when Lark answered. */
export interface LarkUserTokens {
  readonly accessToken: string;
  /** Absent when the user or the app lacks `offline_access`: a configuration error to report. */
  readonly refreshToken?: string;
  readonly expiresIn: number;
  readonly refreshExpiresIn?: number;
  /** The scopes Lark actually granted (may differ from those requested). */
  readonly scopes: readonly string[];
}

/** What a device authorization hands the user (RFC 8628) and the poller. Times in seconds. */
export interface LarkDeviceAuthorization {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete: string;
  readonly expiresIn: number;
  readonly interval: number;
}

/** One poll of a device code: tokens, or why there are none yet (or ever). */
export type LarkDevicePoll =
  | { readonly status: "authorized"; readonly tokens: LarkUserTokens }
  | { readonly status: "pending" }
  | { readonly status: "slow_down" }
  | { readonly status: "denied" }
  | { readonly status: "expired" };

/**
 * Everything the domain asks of Lark, per configured app. Every method rejects with a `LarkError`
 * (domain/lark-error.ts) whose `kind` says whether retrying can help; an unknown `appId` is a
 * terminal `LarkError` with code 0.
 */
export interface LarkGateway {
  /** Sends `card` to the user; `uuid` makes a retried send deliver at most once (Lark: 1 hour). */
  sendCard(appId: string, to: UserRef, card: LarkCard, uuid?: string): Promise<{ messageId: string }>;
  updateCard(appId: string, messageId: string, card: LarkCard): Promise<void>;
  /** The URL of Lark's consent page; always asks for `offline_access`, PKCE S256. No I/O. */
  buildAuthorizeUrl(
    appId: string,
    req: { redirectUri: string; scopes: readonly string[]; state: string; codeChallenge: string },
  ): string;
  exchangeCode(
    appId: string,
    req: { code: string; redirectUri: string; codeVerifier: string },
  ): Promise<LarkUserTokens>;
  /** Refresh tokens are single use: the answer carries the next one, the old one is dead. */
  refreshToken(appId: string, refreshToken: string): Promise<LarkUserTokens>;
  startDeviceAuthorization(appId: string, scopes: readonly string[]): Promise<LarkDeviceAuthorization>;
  pollDeviceToken(appId: string, deviceCode: string): Promise<LarkDevicePoll>;
  getUserInfo(appId: string, accessToken: string): Promise<UserIdentity>;
  /** `expireTime` is when Lark stops accepting the token. */
  getTenantAccessToken(appId: string): Promise<{ token: string; expireTime: Date }>;
}
