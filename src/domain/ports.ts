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

/** A card Lark took. */
export interface SentCard {
  readonly messageId: string;
  /** The one-to-one chat it landed in. */
  readonly chatId?: string;
  /** When Lark created the message, by Lark's clock (its `create_time`), when the answer says. */
  readonly createTime?: Date;
}

/**
 * Everything the domain asks of Lark, per configured app. Every method rejects with a `LarkError`
 * (domain/lark-error.ts) whose `kind` says whether retrying can help; an unknown `appId` is a
 * terminal `LarkError` with code 0.
 */
export interface LarkGateway {
  /** Sends `card` to the user; `uuid` makes a retried send deliver at most once (Lark: 1 hour). */
  sendCard(appId: string, to: UserRef, card: LarkCard, uuid?: string): Promise<SentCard>;
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

// ---- The authorization flow (issue 7, design/flow.md) ----

/** The event vocabulary of the log, as the contract's AuthEventType names it. */
export type AuthEventType =
  | "SESSION_CREATED"
  | "AUTHORIZED"
  | "DECLINED"
  | "EXPIRED"
  | "FAILED"
  | "CANCELLED"
  | "TOKEN_REFRESHED"
  | "REAUTHORIZATION_REQUIRED"
  | "AUTHORIZATION_REVOKED";

/** Secrets that live beside a session row; the store seals them (AAD = `session:<id>:<field>`). */
export interface SessionSecrets {
  /** Hex SHA-256 of the raw OAuth state; the raw state is never stored. */
  readonly oauthStateHash?: string;
  /** Plaintext in, sealed by the store. */
  readonly pkceVerifier?: string;
  /** Plaintext in, sealed by the store. */
  readonly deviceCode?: string;
}

/** What any replica needs to (re)build a session's card later. */
export interface CardInputs {
  readonly message?: string;
  readonly privacyPolicyUrl?: string;
  readonly descriptionStyle: "DETAILED" | "CONCISE";
  /** Device flow: the code the verification page may ask for, once Lark handed it out. */
  readonly userCode?: string;
}

/** An event to append; the payload is built from these fields only, so no secret can reach it. */
export interface NewAuthEvent {
  readonly type: AuthEventType;
  readonly appId: string;
  readonly sessionId?: string;
  readonly identity?: UserIdentity;
  /** The session as it stands after the change. */
  readonly session?: AuthSession;
  readonly reason?: string;
}

/** A grant to store; plaintext tokens in, sealed by the store (AAD = `grant:<app>:<open_id>:access|refresh`). */
export interface GrantWrite {
  readonly appId: string;
  readonly identity: UserIdentity;
  readonly scopes: readonly string[];
  readonly accessToken: string;
  readonly accessExpireTime: Date;
  readonly refreshToken: string;
  readonly refreshExpireTime?: Date;
}

/**
 * What a state change does to the card: `schedule` asks the dispatcher to bring the card up to
 * date; `synced` says the change's own answer already shows the new state (a card action answered inline).
 */
export type CardFollowUp = "schedule" | "synced";

/** One transaction. Every method runs on the transaction's connection. */
export interface AuthTx {
  /** Serialises every start for one (app, user) across replicas (pg_advisory_xact_lock). */
  lockUser(appId: string, user: UserRef): Promise<void>;
  /** The session an earlier start with this key created; locks the key so a concurrent twin waits for this one. */
  sessionByIdempotencyKey(appId: string, key: string): Promise<AuthSession | undefined>;
  /** Sessions created for this requested user after `since` (the rate limit's count lives in the DB). */
  recentStarts(appId: string, user: UserRef, since: Date): Promise<{ count: number; oldest?: Date }>;
  /** The newest PENDING session for this user (requested ref or resolved identity), locked FOR UPDATE. */
  pendingFor(appId: string, user: UserRef): Promise<AuthSession | undefined>;
  /** Scopes of the user's ACTIVE grant, or undefined without one. */
  grantScopes(appId: string, user: UserRef): Promise<readonly string[] | undefined>;
  insertSession(session: AuthSession, card: CardInputs, secrets: SessionSecrets): Promise<void>;
  /** SELECT ... FOR UPDATE by id; undefined for an unknown (or malformed) id. */
  lockSession(id: string): Promise<AuthSession | undefined>;
  /** The chat the session's card was delivered to, when known (who may act on the card). */
  cardChatId(sessionId: string): Promise<string | undefined>;
  /**
   * Atomically marks the state used: the session if the hash matched an unused state (now locked),
   * "used" if it matched a used one, undefined when no session has it.
   */
  consumeState(stateHash: string): Promise<{ session: AuthSession } | "used" | undefined>;
  /**
   * Arms a redirect session for one consent attempt: stores the hash of a fresh state and seals the
   * PKCE verifier, replacing (and so invalidating) any state an earlier click armed.
   */
  armState(sessionId: string, stateHash: string, pkceVerifier: string): Promise<void>;
  /** Undoes consumeState after a transient failure so the user can try again. */
  releaseState(sessionId: string): Promise<void>;
  openSecrets(sessionId: string): Promise<{ pkceVerifier?: string; deviceCode?: string }>;
  /** Pending sessions past their expiry, oldest first, locked (SKIP LOCKED: replicas split the work). */
  claimExpired(now: Date, limit: number): Promise<readonly AuthSession[]>;
  /**
   * Compare-and-set on the row's version as this transaction read it (the session must have been
   * read in this transaction); throws SESSION_CONFLICT if another writer changed it first.
   */
  updateSession(session: AuthSession, card?: CardFollowUp): Promise<void>;
  upsertGrant(grant: GrantWrite): Promise<void>;
  /** Call it LAST in the transaction: it takes the event-log lock until commit. */
  appendEvent(event: NewAuthEvent): Promise<void>;
}

/** Runs work in one database transaction: committed when it resolves, rolled back when it throws. */
export interface AuthUnitOfWork {
  run<T>(work: (tx: AuthTx) => Promise<T>): Promise<T>;
}

/** The randomness and hashing the flow needs (node:crypto in src/crypto/flow-crypto.ts). */
export interface FlowCrypto {
  /** `bytes` bytes from a CSPRNG, base64url (state: 32 bytes; PKCE verifier: 32 bytes -> 43 chars). */
  randomToken(bytes: number): string;
  sha256Hex(value: string): string;
  /** The S256 PKCE challenge of `verifier`, base64url. */
  pkceChallenge(verifier: string): string;
  uuid(): string;
}

/** Wakes the card dispatcher for a session (a new card, or the card must now show the final state). */
export interface CardQueue {
  notify(appId: string, sessionId: string): void;
}

/** The one logging call the flow makes: a problem an operator must fix (never a secret in it). */
export interface FlowLogger {
  error(fields: Readonly<Record<string, string>>, message: string): void;
}
