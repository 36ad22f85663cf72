import type { WatchAuthEventsResponse } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { DomainError, DomainErrorCode } from "../domain/errors.js";
import { cursorToString } from "./codec.js";
import { HubEvent, matches, type WatchFilter } from "./hub-event.js";

type Result = IteratorResult<WatchAuthEventsResponse, undefined>;
/** An event (its id is the resume cursor once sent) or a bookmark. */
type Queued = HubEvent | WatchAuthEventsResponse;
const DONE: Result = { done: true, value: undefined };

/** The error ending a watcher whose consumer fell `limit` messages behind. */
export function tooSlow(limit: number, lastSent: bigint): DomainError {
  return new DomainError(
    DomainErrorCode.WATCHER_TOO_SLOW,
    `the watcher fell ${limit} messages behind; reconnect with after_event_id set to the last event id received`,
    { metadata: { limit: "watch_buffer", last_sent_event_id: cursorToString(lastSent) } },
  );
}

/**
 * One open watch: a bounded queue between the hub (producer) and the transport (consumer, via the
 * async iterator). Invariants:
 * - `cursor` is the highest event id handed to this watcher (matched or not); anything at or below
 *   it is dropped, so catch-up reads and live fan-out may overlap without duplicates;
 * - live delivery never waits: past `limit` queued messages the watcher ends RESOURCE_EXHAUSTED and
 *   frees its queue, so a slow consumer cannot grow memory (it resumes from its last event);
 * - catch-up delivery waits for room instead (`room()`), since it reads at its own pace.
 */
export class Watcher implements AsyncIterator<WatchAuthEventsResponse, undefined> {
  live = false;
  closed = false;
  #queue: Queued[] = [];
  #lastSent: bigint;
  #error?: Error;
  #waiting?: { resolve: (r: Result) => void; reject: (err: Error) => void };
  #wakeProducer?: () => void;

  constructor(
    readonly filter: WatchFilter,
    public cursor: bigint,
    private readonly limit: number,
    private readonly onClose: (w: Watcher, err: Error | undefined) => void,
  ) {
    this.#lastSent = cursor;
  }

  /** Live fan-out: queue `e` if new and matching; overflow ends the watcher. */
  offer(e: HubEvent): void {
    if (this.closed || e.id <= this.cursor) return;
    this.cursor = e.id;
    if (!matches(this.filter, e)) return;
    if (this.#queue.length < this.limit) this.#push(e);
    else this.fail(tooSlow(this.limit, this.#lastSent));
  }

  /** Catch-up: like offer, but the caller waited for room first. */
  replay(e: HubEvent): void {
    if (this.closed || e.id <= this.cursor) return;
    this.cursor = e.id;
    if (matches(this.filter, e)) this.#push(e);
  }

  /** Queues a bookmark only when idle: queued events already tell the client it is progressing. */
  bookmark(msg: WatchAuthEventsResponse): void {
    if (!this.closed && this.#queue.length === 0) this.#push(msg);
  }

  /** Resolves once the queue has room (or the watcher closed). */
  room(): Promise<void> {
    if (this.closed || this.#queue.length < this.limit) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wakeProducer = resolve;
    });
  }

  /** Ends the stream with `err` after nothing else (queued messages are dropped with the memory). */
  fail(err: Error): void {
    if (this.closed) return;
    this.#error = err;
    this.#queue = [];
    this.#finish();
  }

  /** Ends the stream cleanly once the consumer asks next. */
  end(): void {
    if (!this.closed) this.#finish();
  }

  next(): Promise<Result> {
    const item = this.#queue.shift();
    if (item !== undefined) {
      const value = this.#sent(item);
      if (this.#wakeProducer && this.#queue.length < this.limit / 2) this.#releaseProducer();
      return Promise.resolve({ done: false, value });
    }
    if (this.#error) {
      const err = this.#error;
      this.#error = undefined;
      return Promise.reject(err);
    }
    if (this.closed) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  return(): Promise<Result> {
    this.end();
    this.#queue = [];
    return Promise.resolve(DONE);
  }

  #push(item: Queued): void {
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting.resolve({ done: false, value: this.#sent(item) });
    } else this.#queue.push(item);
  }

  /** The message for `item`, noting the last event sent (kept as the event's bigint: no per-message parse). */
  #sent(item: Queued): WatchAuthEventsResponse {
    if (!(item instanceof HubEvent)) return item;
    this.#lastSent = item.id;
    return item.response;
  }

  #finish(): void {
    this.closed = true;
    this.onClose(this, this.#error);
    this.#releaseProducer();
    const waiting = this.#waiting;
    if (!waiting) return;
    this.#waiting = undefined;
    const err = this.#error;
    this.#error = undefined;
    if (err) waiting.reject(err);
    else waiting.resolve(DONE);
  }

  #releaseProducer(): void {
    const release = this.#wakeProducer;
    this.#wakeProducer = undefined;
    release?.();
  }
}
