import { setTimeout as sleep } from "node:timers/promises";
import type { WatchAuthEventsResponse } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { DomainError, DomainErrorCode } from "../domain/errors.js";
import type { EventLogReader, EventRange } from "../domain/events.js";
import type { Logger } from "../telemetry/logger.js";
import { bookmarkResponse } from "./codec.js";
import { HubEvent, type WatchFilter } from "./hub-event.js";
import { Watcher } from "./watcher.js";

/** Where a watch starts: after a cursor, at the oldest retained event, or at what comes next. */
export type WatchStart =
  | { readonly kind: "after"; readonly id: bigint }
  | { readonly kind: "oldest" }
  | { readonly kind: "new" };

export interface EventHubOptions {
  /** Reads the log this often even without a wake-up: NOTIFY is best effort (default 1000 ms). */
  readonly pollIntervalMs?: number;
  /** Bookmarks to idle watchers this often (default 10 s). */
  readonly bookmarkIntervalMs?: number;
  /** Messages a watcher may have queued before it is ended RESOURCE_EXHAUSTED (default 256). */
  readonly maxBuffered?: number;
  /** Rows per read (default 500). */
  readonly pageSize?: number;
  /** Pause before a catch-up read retries after a database error (default 500 ms). */
  readonly retryDelayMs?: number;
}

/** A source of wake-ups (PostgreSQL LISTEN), started with the hub and closed with it. */
export type WakeupSource = (wake: () => void) => { close(): Promise<void> };

/** Called when a watcher opens; the function it returns is called once, when that watcher ends. */
export type WatchObserver = () => (err: Error | undefined) => void;

export interface EventHubDeps {
  readonly log: EventLogReader;
  readonly logger: Logger;
  /** Seconds from each event's occur time to its hand-off to the live watchers (once per event). */
  readonly deliveryLag?: (seconds: number) => void;
  readonly wakeups?: WakeupSource;
  readonly now?: () => Date;
  readonly options?: EventHubOptions;
}

/** The one reader of the event log in this process, fanning events out to every watcher. */
export interface EventHub {
  /** Reads the current head and starts polling and listening. */
  start(): Promise<void>;
  /** The stream of one watch; ends when `signal` aborts, fails OUT_OF_RANGE or RESOURCE_EXHAUSTED. */
  watch(
    filter: WatchFilter,
    start: WatchStart,
    signal: AbortSignal,
    observe?: WatchObserver,
  ): AsyncIterable<WatchAuthEventsResponse>;
  /**
   * Reads the log now. Writers on the embedded database call it after committing an event (there
   * is no NOTIFY across its connections); elsewhere it only shortens the wait.
   */
  notifyEventsCommitted(): void;
  /** Open watchers and the last id read, for metrics and tests. */
  stats(): { watchers: number; head: bigint };
  /** Ends every watch (cleanly: the transports say UNAVAILABLE on shutdown) and stops reading. */
  close(): Promise<void>;
}

/**
 * Observes the delivery lag of `rows` once the transports have had their turn: the watchers'
 * consumers resume in the microtasks after the fan-out, so by the next macrotask each idle
 * watcher's transport has written the events. One observation per event, never per watcher.
 */
function observeLag(observe: (seconds: number) => void, rows: readonly HubEvent[]): void {
  setImmediate(() => {
    const now = Date.now();
    for (const e of rows) observe((now - e.row.occurTime.getTime()) / 1000);
  });
}

/**
 * The error for a cursor beyond every event this log has issued: from another deployment or a
 * database that was wiped. Waiting on it would silently skip events until the ids caught up.
 */
export function cursorUnknown(): DomainError {
  return new DomainError(
    DomainErrorCode.CURSOR_UNKNOWN,
    "after_event_id is ahead of the newest event: it was not issued by this deployment's log; restart with from_oldest, or without a cursor",
  );
}

/** The error for a cursor that retention has passed. */
export function cursorExpired(): DomainError {
  return new DomainError(
    DomainErrorCode.CURSOR_EXPIRED,
    "after_event_id is older than the retained events; restart with from_oldest, or without a cursor",
  );
}

/**
 * Creates the hub. Delivery guarantees, given that ids become visible in order (the log's writer
 * lock): a watcher's stream is every matching event after its start, in id order, each once.
 * - The hub reads `id > head` (wake-up, poll, or after an error once the database is back) and
 *   hands every event to every live watcher synchronously, so live watchers never miss one.
 * - A watcher starting behind the head catches up with its own reads (narrowed by app or session
 *   in SQL) and joins the live set in the same tick it finds itself at the head; overlaps are
 *   dropped by its cursor.
 */
export function createEventHub(deps: EventHubDeps): EventHub {
  const o = deps.options ?? {};
  const limit = o.maxBuffered ?? 256;
  const pageSize = o.pageSize ?? 500;
  // A page goes to the live watchers in chunks of at most half a buffer, with a turn of the event
  // loop between them, so a watcher that keeps reading drains each chunk before the next: only a
  // slow one overflows, not every watcher at once whenever a burst commits.
  const liveChunk = Math.max(1, Math.floor(limit / 2));
  const now = deps.now ?? (() => new Date());
  const live = new Set<Watcher>();
  const catchingUp = new Set<Watcher>();
  const timers: NodeJS.Timeout[] = [];
  const stopping = new AbortController();
  let head = 0n;
  let pumping = false;
  let again = false;
  let failing = false;
  let listener: { close(): Promise<void> } | undefined;

  const dispatch = (rows: readonly HubEvent[]) => {
    for (const e of rows) {
      head = e.id;
      for (const w of live) w.offer(e);
    }
    if (deps.deliveryLag && rows.length > 0 && live.size > 0) observeLag(deps.deliveryLag, rows);
  };

  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const rows = await deps.log.readAfter(head, pageSize);
          const events = rows.map((r) => new HubEvent(r));
          for (let i = 0; i < events.length; i += liveChunk) {
            if (i > 0) await new Promise(setImmediate);
            dispatch(events.slice(i, i + liveChunk));
          }
          if (rows.length < pageSize || stopping.signal.aborted) break;
        }
      } while (again && !stopping.signal.aborted);
      if (failing) deps.logger.info({ head: head.toString() }, "event log readable again; watchers resumed");
      failing = false;
    } catch (err) {
      // Watchers keep waiting: the next poll resumes from `head`, so nothing is skipped.
      if (!failing) deps.logger.warn({ err }, "reading the event log failed; retrying at the next poll");
      failing = true;
    } finally {
      pumping = false;
    }
  };

  const sendBookmarks = () => {
    if (live.size === 0) return;
    const msg = bookmarkResponse(head, now());
    for (const w of live) w.bookmark(msg);
  };

  const attach = (w: Watcher) => {
    catchingUp.delete(w);
    if (w.closed) return;
    w.live = true;
    live.add(w);
  };

  /** Reads from the watcher's cursor until it reaches the head, then makes it live. */
  const catchUp = async (w: Watcher, range: EventRange, checkHorizon: boolean) => {
    while (!w.closed) {
      const seen = head;
      const from = w.cursor;
      let rows: HubEvent[];
      try {
        rows = (await deps.log.readAfter(from, pageSize, range)).map((r) => new HubEvent(r));
        // Read after the page: anything pruned before the page was read shows in the horizon.
        if (checkHorizon && (await deps.log.horizon()) > from) return w.fail(cursorExpired());
      } catch (err) {
        deps.logger.warn({ err }, "catching a watcher up failed; retrying");
        await sleep(o.retryDelayMs ?? 500, undefined, { signal: stopping.signal }).catch(() => undefined);
        continue;
      }
      for (const e of rows) {
        await w.room();
        w.replay(e);
      }
      if (rows.length < pageSize) {
        // A short page holds every row of the range up to `seen` (committed before the read began).
        if (w.cursor < seen) w.cursor = seen;
        if (w.cursor >= head) return attach(w);
      }
    }
  };

  const begin = async (w: Watcher, filter: WatchFilter, start: WatchStart) => {
    if (start.kind === "after") {
      if ((await deps.log.horizon()) > start.id) return w.fail(cursorExpired());
      // Ahead of this hub's head is normal for a cursor from a faster replica; ahead of the
      // database's newest id, never.
      if (start.id > head && start.id > (await deps.log.latestId())) return w.fail(cursorUnknown());
    }
    if (start.kind === "oldest") w.cursor = await deps.log.horizon();
    const range: EventRange = { appId: filter.appId, sessionId: filter.sessionId };
    await catchUp(w, range, start.kind === "after");
  };

  const open = (
    filter: WatchFilter,
    start: WatchStart,
    signal: AbortSignal,
    observe?: WatchObserver,
  ): Watcher => {
    const onAbort = () => w.end();
    const ended = observe?.();
    const w = new Watcher(filter, start.kind === "after" ? start.id : head, limit, (closed, err) => {
      live.delete(closed);
      catchingUp.delete(closed);
      signal.removeEventListener("abort", onAbort);
      ended?.(err);
    });
    if (stopping.signal.aborted || signal.aborted) {
      w.end();
      return w;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    if (start.kind === "new") attach(w);
    else {
      catchingUp.add(w);
      begin(w, filter, start).catch((err: unknown) => w.fail(err as Error));
    }
    return w;
  };

  return {
    async start() {
      head = await deps.log.latestId();
      timers.push(setInterval(() => void pump(), o.pollIntervalMs ?? 1000).unref());
      timers.push(setInterval(sendBookmarks, o.bookmarkIntervalMs ?? 10_000).unref());
      listener = deps.wakeups?.(() => void pump());
    },
    watch: (filter, start, signal, observe) => ({
      [Symbol.asyncIterator]: () => open(filter, start, signal, observe),
    }),
    notifyEventsCommitted: () => void pump(),
    stats: () => ({ watchers: live.size + catchingUp.size, head }),
    async close() {
      stopping.abort();
      for (const t of timers) clearInterval(t);
      for (const w of [...live, ...catchingUp]) w.end();
      await listener?.close();
    },
  };
}
