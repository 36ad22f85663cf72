/** How a retry-safe Lark call is retried. */
export interface RetryOptions {
  /** Attempts in all, the first included (1: never retry). */
  readonly maxAttempts: number;
  /** The first back-off; each later one doubles, up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  /**
   * The longest one wait may be. A rate-limit answer asking for longer is not waited out in line:
   * the call fails and its caller (a job, a client honouring RetryInfo) comes back later.
   */
  readonly maxDelayMs: number;
}

/**
 * How long to wait after `failedAttempts` attempts failed before the next one, or undefined when
 * no attempt is left (or Lark asked for a longer wait than we hold a caller). `hintMs` is Lark's
 * own answer (x-ogw-ratelimit-reset, Retry-After): waited in full, plus jitter so everyone it
 * throttled at once does not come back in the same millisecond. Otherwise exponential with jitter
 * in [cap/2, cap]. Pure: `random` is injected.
 */
export function retryDelayMs(
  failedAttempts: number,
  hintMs: number | undefined,
  options: RetryOptions,
  random: () => number,
): number | undefined {
  if (failedAttempts >= options.maxAttempts) return undefined;
  if (hintMs !== undefined) {
    if (hintMs > options.maxDelayMs) return undefined;
    return Math.round(hintMs + random() * options.baseDelayMs);
  }
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(cap / 2 + random() * (cap / 2));
}
