import type { CardInputs } from "./ports.js";
import type { AuthSession, SessionState } from "./sessions/session.js";

// Ports of the background jobs (src/jobs/), implemented in src/store/. They live in domain/ because
// store/ may not import jobs/; they belong in ports.ts once the flow's ports land there.

/** A session with the card bookkeeping the dispatcher needs. */
export interface CardWork {
  readonly session: AuthSession;
  readonly inputs: CardInputs;
  /** The state the delivered card shows; absent before the first delivery. */
  readonly syncedState?: SessionState;
  readonly chatId?: string;
  /** Failed delivery attempts since the last success. */
  readonly attempts: number;
}

/** What starting a device authorization left for the card and the poller. */
export interface DeviceAuthorization {
  /** Plaintext in; the store seals it (AAD `session:<id>:device_code`). */
  readonly deviceCode: string;
  /** The verification page the card's button opens (verification_uri_complete). */
  readonly authorizeUrl: string;
  /** The code the verification page may ask for; kept for the card, never logged. */
  readonly userCode: string;
  readonly intervalSeconds: number;
  readonly nextPollTime: Date;
}

/**
 * Card bookkeeping on the session rows (`card_*` columns). Claims are leases: a claimed row's
 * `card_next_attempt_time` moves `leaseMs` ahead, so other replicas skip it until it lapses (the
 * holder crashed) and then take it over. `null` due time means nothing to do.
 */
export interface CardWorkStore {
  /** Claims up to `limit` sessions due at `now` (FOR UPDATE SKIP LOCKED), oldest due first. */
  claimDue(now: Date, leaseMs: number, limit: number): Promise<CardWork[]>;
  /** Claims one session if its card work is due at `now` and no one holds it; its work, or undefined. */
  claim(sessionId: string, now: Date, leaseMs: number): Promise<CardWork | undefined>;
  saveDeviceAuthorization(sessionId: string, device: DeviceAuthorization): Promise<void>;
  /**
   * Records a delivered card showing PENDING; leaves the session due again at once when it
   * finished meanwhile (so its card is updated), else clears the due time and attempts.
   */
  markSent(sessionId: string, sent: { messageId: string; chatId?: string }, now: Date): Promise<void>;
  /** Records that the card shows `state`; clears the due time unless the session moved on again. */
  markSynced(sessionId: string, state: SessionState, now: Date): Promise<void>;
  /** Schedules another attempt at `at`, counting `attempts` failures so far. */
  reschedule(sessionId: string, attempts: number, at: Date): Promise<void>;
  /** Nothing more to do for this card (gave up on an update): clears the due time. */
  settle(sessionId: string): Promise<void>;
  /**
   * Ends a still PENDING session FAILED with `reason` and appends a FAILED event, in one
   * transaction; false when it was no longer pending (nothing changed).
   */
  fail(sessionId: string, reason: string, message: string, now: Date): Promise<boolean>;
}

/** Deletes what the retention period no longer keeps. */
export interface RetentionStore {
  /** Deletes up to `limit` finished sessions completed before `before` (SKIP LOCKED); returns how many. */
  pruneSessions(before: Date, limit: number): Promise<number>;
  /** Deletes up to `limit` events that occurred before `before`; returns how many. */
  pruneEvents(before: Date, limit: number): Promise<number>;
}

/** A claimed device session, ready to poll. */
export interface DevicePoll {
  readonly sessionId: string;
  readonly appId: string;
  /** Opened from its sealed column by the store; never logged. */
  readonly deviceCode: string;
  readonly intervalSeconds: number;
}

/** Device polling bookkeeping on the session rows (`device_*` columns); claims are leases, as for cards. */
export interface DeviceWorkStore {
  /** Claims up to `limit` PENDING device sessions whose next poll is due at `now` (FOR UPDATE SKIP LOCKED). */
  claimDuePolls(now: Date, leaseMs: number, limit: number): Promise<DevicePoll[]>;
  /** Schedules the next poll at `at`, remembering a (possibly slowed down) interval. */
  schedulePoll(sessionId: string, at: Date, intervalSeconds: number): Promise<void>;
}
