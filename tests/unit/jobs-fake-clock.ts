import type { TimerClock } from "../../src/jobs/clock.js";

/** A clock that moves only when told, firing due timers in time order (ties in creation order). */
export class FakeClock implements TimerClock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = this.#seq++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return () => this.#timers.delete(id);
  }

  /** Timers still scheduled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Advances by `ms`, running each timer at its due time and letting promise callbacks settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await flush();
      const next = [...this.#timers.entries()].sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
      if (!next || next[1].at > end) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = end;
    await flush();
  }
}

/** Lets queued promise reactions run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
