/**
 * Time as the jobs see it: milliseconds and cancellable timers, injected so unit tests drive
 * time by hand instead of sleeping (the machine is shared; wall-clock tests flake).
 */
export interface TimerClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it (idempotent). */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The real clock; timers are unref'd so a pending wait never keeps the process alive. */
export const systemTimerClock: TimerClock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on `clock`, or rejects with the signal's reason once it aborts. */
export function sleep(clock: TimerClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `base * 2^attempt`, capped, with full jitter in [cap/2, cap] so retries from many sessions spread out. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  const cap = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(cap / 2 + random() * (cap / 2));
}
