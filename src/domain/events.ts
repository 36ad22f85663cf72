import type { AuthEventType } from "./ports.js";

/** One committed event as the log stores it; `payload` is what the writer stored (store/event-writer.ts). */
export interface StoredAuthEvent {
  readonly id: bigint;
  readonly type: AuthEventType;
  readonly occurTime: Date;
  readonly appId: string;
  readonly sessionId?: string;
  readonly openId?: string;
  readonly reason?: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Which rows a read may be narrowed to in SQL (both use an index); other filters apply in memory. */
export interface EventRange {
  readonly appId?: string;
  readonly sessionId?: string;
}

/**
 * Reads the event log. Every read is `id > after order by id`: the writer lock makes ids visible
 * in order (auth-event.entity.ts), so a reader that has seen id N never later finds a smaller one.
 */
export interface EventLogReader {
  /** The highest committed id (or the horizon when the log is empty): where "only new events" start. */
  latestId(): Promise<bigint>;
  /** The highest id ever pruned: a cursor below it may have missed events (OUT_OF_RANGE). */
  horizon(): Promise<bigint>;
  /** Up to `limit` events with id > `after` within `range`, in id order. */
  readAfter(after: bigint, limit: number, range?: EventRange): Promise<StoredAuthEvent[]>;
}
