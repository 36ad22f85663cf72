/** A tripped limit: what the `x-ogw-ratelimit-*` headers report. */
export interface RateLimitHit {
  limit: number;
  resetSeconds: number;
}

interface Window {
  limit: number;
  windowMs: number;
}

/**
 * Fixed-window counters (per second and per minute, as Lark documents them). A rejected request does
 * not consume quota, so a client that waits for the reset gets through.
 */
export class RateLimiter {
  readonly #counts = new Map<string, { window: number; count: number }>();

  hit(key: string, windows: Window[], now: number): RateLimitHit | undefined {
    for (const w of windows) {
      const slot = this.#slot(key, w, now);
      if (slot.count >= w.limit) {
        const resetMs = (slot.window + 1) * w.windowMs - now;
        return { limit: w.limit, resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)) };
      }
    }
    for (const w of windows) this.#slot(key, w, now).count += 1;
    return undefined;
  }

  #slot(key: string, w: Window, now: number): { window: number; count: number } {
    const id = `${key}\n${w.windowMs}`;
    const window = Math.floor(now / w.windowMs);
    let slot = this.#counts.get(id);
    if (!slot || slot.window !== window) {
      slot = { window, count: 0 };
      this.#counts.set(id, slot);
    }
    return slot;
  }
}
