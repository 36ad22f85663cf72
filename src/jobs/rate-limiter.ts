import { systemTimerClock, type TimerClock } from "./clock.js";

/** At most `limit` units of cost in any interval of `windowMs` milliseconds. */
export interface RateWindow {
  readonly limit: number;
  readonly windowMs: number;
}

export interface AcquireOptions {
  /** Units this call consumes (default 1); more than a window's limit can never be granted. */
  readonly cost?: number;
  /** Aborting removes the waiter from the queue without consuming anything. */
  readonly signal?: AbortSignal;
}

/** Admits calls per key so that no key ever exceeds any of its windows. */
export interface RateLimiter {
  /**
   * Resolves once `cost` units fit into every window of `key`, and records them (the caller then
   * makes its call). Waiters of one key are served strictly first come, first served. Rejects with
   * the signal's reason when aborted while waiting, and with a RangeError when the cost exceeds a
   * window's whole limit.
   */
  acquire(key: string, options?: AcquireOptions): Promise<void>;
  /**
   * acquire, for a call whose arrival time at the server is uncertain (a busy process can start a
   * request in one second and deliver it in the next): the grant counts from admission until
   * `windowMs` after the returned `done()` is called (when the answer arrived), so a request that
   * reached the server late is still counted in the server's window. (A call unanswered for longer
   * than a whole window has stopped counting by then; the gateway's time-out keeps calls shorter.)
   * When the answer tells when the server took the call (`at`, e.g. a message's `create_time`), the
   * grant counts from then instead: that is exactly the moment the server counted, so the slot is
   * not held for the answer's way back (clamped to admission..answer, in case the clocks differ).
   */
  admit(key: string, options?: AcquireOptions): Promise<(at?: number) => void>;
}

export interface RateLimiterOptions {
  /** The windows of every key, or per key (read once, when the key is first seen). */
  readonly windows: readonly RateWindow[] | ((key: string) => readonly RateWindow[]);
  readonly clock?: TimerClock;
}

interface Grant {
  /** When the grant stops counting, minus the window: admission, or the call's end once known. */
  time: number;
  readonly cost: number;
}
interface Waiter {
  readonly cost: number;
  readonly resolve: (grants: Grant[]) => void;
  readonly reject: (reason: unknown) => void;
  readonly detach: () => void;
}
interface KeyState {
  readonly windows: readonly RateWindow[];
  /** Per window, the grants still inside it, oldest first. */
  readonly logs: Grant[][];
  readonly queue: Waiter[];
  cancelTimer?: () => void;
}

/**
 * A sliding-log limiter: a grant counts against a window for exactly `windowMs` after it was made,
 * so every interval of that length (including Lark's fixed per-second and per-minute buckets, however
 * they are aligned) sees at most `limit`. Memory is O(limit) per busy key; idle keys are forgotten.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const clock = options.clock ?? systemTimerClock;
  const windowsOf =
    typeof options.windows === "function" ? options.windows : () => options.windows as readonly RateWindow[];
  const keys = new Map<string, KeyState>();

  const stateOf = (key: string): KeyState => {
    let state = keys.get(key);
    if (!state) {
      const windows = windowsOf(key);
      state = { windows, logs: windows.map(() => []), queue: [] };
      keys.set(key, state);
    }
    return state;
  };

  /** Grants the queue's head while it fits, then sleeps until the head (or the last grant) can change. */
  const pump = (key: string, state: KeyState): void => {
    state.cancelTimer?.();
    state.cancelTimer = undefined;
    const now = clock.now();
    expire(state, now);
    for (let head = state.queue[0]; head; head = state.queue[0]) {
      const wait = waitFor(state, head.cost, now);
      if (wait > 0) {
        state.cancelTimer = clock.setTimer(() => pump(key, state), wait);
        return;
      }
      state.queue.shift();
      head.detach();
      const grants = state.logs.map((log) => {
        const grant = { time: now, cost: head.cost };
        log.push(grant);
        return grant;
      });
      head.resolve(grants);
    }
    const lastExpiry = Math.max(
      ...state.logs.map((log, i) => (log.at(-1)?.time ?? -Infinity) + windowAt(state, i).windowMs),
    );
    if (lastExpiry === -Infinity) keys.delete(key);
    else state.cancelTimer = clock.setTimer(() => pump(key, state), lastExpiry - now);
  };

  const enqueue = (key: string, opts: AcquireOptions): Promise<Grant[]> => {
    const cost = opts.cost ?? 1;
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const state = stateOf(key);
    const tooBig = state.windows.find((w) => cost > w.limit || cost <= 0);
    if (tooBig)
      return Promise.reject(new RangeError(`cost ${cost} can never fit a window of ${tooBig.limit}`));
    return new Promise<Grant[]>((resolve, reject) => {
      const onAbort = () => {
        const i = state.queue.indexOf(waiter);
        if (i < 0) return;
        state.queue.splice(i, 1);
        reject(signal?.reason);
        // The head left: the next waiter may fit right now.
        if (i === 0) pump(key, state);
      };
      const waiter: Waiter = {
        cost,
        resolve,
        reject,
        detach: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      state.queue.push(waiter);
      // Only a new head can be granted now; later arrivals wait behind it (FIFO).
      if (state.queue.length === 1) pump(key, state);
    });
  };

  return {
    async acquire(key, opts = {}) {
      await enqueue(key, opts);
    },
    async admit(key, opts = {}) {
      const grants = await enqueue(key, opts);
      return (at) => {
        const answered = clock.now();
        const state = keys.get(key);
        if (!state) return; // every grant of the key already expired
        // Re-filed at its new time, so each log stays ordered oldest first (expire and waitFor rely on it).
        state.logs.forEach((log, i) => {
          const grant = grants[i] as Grant;
          const end = at === undefined ? answered : Math.min(Math.max(at, grant.time), answered);
          const index = log.indexOf(grant);
          if (index < 0 || grant.time >= end) return;
          log.splice(index, 1);
          grant.time = end;
          let to = log.length;
          while (to > 0 && (log[to - 1] as Grant).time > end) to--;
          log.splice(to, 0, grant);
        });
        pump(key, state);
      };
    },
  };
}

/**
 * A limiter for one class of calls that may use at most its own (smaller) windows of a parent's
 * budget: a call passes the share first, then queues at the parent with everyone else. So a flood of
 * this class (device polls) holds at most the share of the parent's capacity, and other callers of
 * the parent (refreshes, code exchanges) keep the rest.
 */
export function createShareLimiter(parent: RateLimiter, share: RateLimiterOptions): RateLimiter {
  const own = createRateLimiter(share);
  return {
    async acquire(key, options) {
      await own.acquire(key, options);
      await parent.acquire(key, options);
    },
    async admit(key, options) {
      const ownDone = await own.admit(key, options);
      const parentDone = await parent.admit(key, options).catch((err: unknown) => {
        ownDone();
        throw err;
      });
      return (at) => {
        ownDone(at);
        parentDone(at);
      };
    },
  };
}

/** `windows` with every limit scaled by `fraction` (at least 1, so a share is never zero). */
export function scaleWindows(windows: readonly RateWindow[], fraction: number): RateWindow[] {
  return windows.map((w) => ({ limit: Math.max(1, Math.floor(w.limit * fraction)), windowMs: w.windowMs }));
}

function windowAt(state: KeyState, i: number): RateWindow {
  return state.windows[i] as RateWindow;
}

/** Drops grants that no longer count against their window. */
function expire(state: KeyState, now: number): void {
  state.logs.forEach((log, i) => {
    const windowMs = windowAt(state, i).windowMs;
    let n = 0;
    while (n < log.length && (log[n] as Grant).time + windowMs <= now) n++;
    if (n > 0) log.splice(0, n);
  });
}

/** Milliseconds until `cost` more fits every window (0: now). */
function waitFor(state: KeyState, cost: number, now: number): number {
  let wait = 0;
  state.logs.forEach((log, i) => {
    const { limit, windowMs } = windowAt(state, i);
    let used = log.reduce((sum, g) => sum + g.cost, 0);
    for (const grant of log) {
      if (used + cost <= limit) break;
      used -= grant.cost;
      wait = Math.max(wait, grant.time + windowMs - now);
    }
  });
  return wait;
}
