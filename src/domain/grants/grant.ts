import type { LarkUserTokens } from "../ports.js";
import type { UserIdentity, UserRef } from "../users.js";

/** Where a grant stands: usable, last refresh outcome unknown (Lark may have rotated), or dead. */
export type GrantStatus = "ACTIVE" | "REFRESH_UNCERTAIN" | "REAUTH_REQUIRED";

/** A stored grant with its access token opened; the refresh token never leaves the store except in a claim. */
export interface StoredGrant {
  readonly id: string;
  readonly appId: string;
  readonly identity: UserIdentity;
  readonly scopes: readonly string[];
  readonly accessToken: string;
  readonly accessExpireTime: Date;
  /** When Lark issued the access token (its lifetime is expire - issue). */
  readonly accessIssueTime: Date;
  readonly refreshExpireTime?: Date;
  readonly status: GrantStatus;
  /** Fencing token: bumped by every write of a new token pair. */
  readonly version: number;
  /** Set while some process holds the refresh lease. */
  readonly leaseExpireTime?: Date;
  /** No refresh before this instant (transient failures back off). */
  readonly refreshRetryTime?: Date;
}

/**
 * The right to call Lark's refresh endpoint once for one grant, recorded in the row before the call.
 * `confirmation`: the previous attempt's outcome is unknown, so this call tells whether Lark rotated.
 */
export interface RefreshClaim {
  readonly grantId: string;
  readonly appId: string;
  readonly openId: string;
  readonly owner: string;
  readonly version: number;
  readonly refreshToken: string;
  readonly confirmation: boolean;
  /** Consecutive failed refreshes before this one (sets the backoff). */
  readonly failures: number;
}

/** What claiming a refresh lease found. */
export type ClaimResult =
  | { readonly kind: "claimed"; readonly claim: RefreshClaim }
  /** Someone else holds a live lease. */
  | { readonly kind: "held"; readonly leaseExpireTime: Date }
  /** The grant changed since it was read (another refresh, a re-authorization): read it again. */
  | { readonly kind: "changed" }
  /** A transient failure asked for a pause; no refresh before `retryTime`. */
  | { readonly kind: "backoff"; readonly retryTime: Date }
  /** Gone, dead, or without a refresh token. */
  | { readonly kind: "unusable"; readonly reason: string }
  /**
   * A confirmation whose own outcome was lost: the store already marked the grant REAUTH_REQUIRED
   * (event emitted); nobody calls Lark again with that refresh token.
   */
  | { readonly kind: "outcome_lost" };

/** How a refresh attempt that got no new pair ends, as the store records it. */
export interface FailedAttempt {
  /** Lark's answer may have rotated the token (answer lost): status REFRESH_UNCERTAIN. */
  readonly uncertain: boolean;
  /** No refresh before this instant; absent: at once (a confirmation right after a lost answer). */
  readonly retryTime?: Date;
}

/**
 * Durable grants. Leases use the database's clock so replicas with skewed clocks agree. Every write of
 * a new pair or status is fenced by (lease owner, version) and signals the change to every replica's
 * cache; a method that reports a lost fence changed nothing.
 */
export interface GrantStore {
  find(appId: string, user: UserRef): Promise<StoredGrant | undefined>;
  findById(grantId: string): Promise<StoredGrant | undefined>;
  /**
   * One atomic statement: takes the lease if it is free or expired and the row still has `version`,
   * and records the attempt. A lease found expired with an attempt recorded and no outcome makes this
   * claim a confirmation (status REFRESH_UNCERTAIN); if that was already a confirmation, `outcome_lost`.
   */
  claimRefresh(grantId: string, version: number, owner: string, leaseMs: number): Promise<ClaimResult>;
  /**
   * The background refresher's batch claim: up to `limit` grants due for a refresh (access token past
   * the threshold of its lifetime, refresh token within `refreshMarginMs` of its own expiry, or an
   * outcome to confirm), claimed like `claimRefresh` in one statement with `FOR UPDATE SKIP LOCKED`,
   * so replicas take different grants. Owners are `<ownerPrefix>:<n>`.
   */
  claimDue(
    limit: number,
    due: { threshold: number; refreshMarginMs: number },
    ownerPrefix: string,
    leaseMs: number,
  ): Promise<ClaimResult[]>;
  /** Gives a claim back unused (Lark was never called): lease and attempt cleared (fenced). */
  release(claim: RefreshClaim): Promise<void>;
  /** Stores the new pair (fenced), clears lease and attempt, appends TOKEN_REFRESHED; undefined = fence lost. */
  commitRefresh(claim: RefreshClaim, tokens: LarkUserTokens): Promise<StoredGrant | undefined>;
  /** Records a failed attempt's outcome and releases the lease (fenced). */
  releaseFailed(claim: RefreshClaim, failure: FailedAttempt): Promise<void>;
  /** REAUTH_REQUIRED + REAUTHORIZATION_REQUIRED event, one transaction (fenced); false = fence lost. */
  markReauthRequired(claim: RefreshClaim, reason: string): Promise<boolean>;
  /** Deletes the grant and appends AUTHORIZATION_REVOKED; the deleted grant, or undefined. */
  revoke(appId: string, user: UserRef): Promise<StoredGrant | undefined>;
  /** Replaces the stored identity fields (not the open_id) of a grant. */
  updateIdentity(grantId: string, identity: UserIdentity): Promise<void>;
}

/** Which replica's cache entries a change touches. */
export interface GrantChange {
  readonly appId: string;
  readonly openId: string;
}

/**
 * Signals grant changes to every replica. `live` is false while the signal may be missing changes
 * (the listening connection is down): caches must not serve then.
 */
export interface GrantChanges {
  /** `all` after a reconnect: anything may have changed meanwhile. */
  subscribe(listener: (change: GrantChange | "all") => void): () => void;
  live(): boolean;
  /** Resolves once every replica listening now has been sent the changes committed so far (best effort). */
  settle(timeoutMs: number): Promise<void>;
}

/** One token handed out, for the operators' audit trail. */
export interface TokenRead {
  readonly caller: string;
  readonly appId: string;
  readonly openId: string;
  readonly rpc: string;
  readonly time: Date;
}

/** Records token reads; `record` never blocks the hot path (writes are batched). */
export interface TokenAudit {
  record(read: TokenRead): void;
}

/** The fraction of its lifetime after which a token is refreshed (config `token_refresh_threshold`). */
export interface RefreshPolicy {
  readonly threshold: number;
}

/** The lifetime left that makes a token fresh enough when the caller asks for nothing: (1 - threshold) × lifetime. */
export function defaultMinValidMs(grant: StoredGrant, policy: RefreshPolicy): number {
  const lifetime = grant.accessExpireTime.getTime() - grant.accessIssueTime.getTime();
  return Math.max(0, lifetime * (1 - policy.threshold));
}

export function remainingMs(grant: StoredGrant, now: Date): number {
  return grant.accessExpireTime.getTime() - now.getTime();
}

/** The required scopes the grant lacks (empty: covered). */
export function missingScopes(grant: StoredGrant, required: readonly string[]): string[] {
  const have = new Set(grant.scopes);
  return required.filter((s) => !have.has(s));
}
