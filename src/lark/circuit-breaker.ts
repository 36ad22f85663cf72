/** The breaker's states; the gauge exports them as 0, 1, 2 in this order. */
export type CircuitState = "closed" | "half_open" | "open";

export const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState, number>> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

export interface CircuitOptions {
  /** Consecutive failed attempts (5xx, time-outs, network errors) that open the circuit. */
  readonly failureThreshold: number;
  /** How long an open circuit refuses calls before letting one probe through, in milliseconds. */
  readonly cooldownMs: number;
}

/**
 * What an attempt says about Lark's health: `failure` (it is down: 5xx, time-out, network),
 * `success` (it answered: OK, a business error or throttling all prove it is up).
 */
export type AttemptHealth = "success" | "failure";

/** A permit to call: `probe` is the one call a half-open circuit lets through. */
export type Admission =
  | { readonly ok: true; readonly probe: boolean }
  | { readonly ok: false; readonly retryAfterMs: number };

export interface CircuitTransition {
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Consecutive failures seen when the circuit opened (0 otherwise). */
  readonly failures: number;
}

/**
 * One app's circuit breaker, pure: time comes in as `now` (ms), so tests drive it by hand.
 * closed → open after `failureThreshold` consecutive failures; open → half-open once `cooldownMs`
 * passed, letting exactly one probe through; the probe's success closes it, its failure reopens it
 * for another cool-down. `onTransition` is called once per change of state, never per call.
 */
export class CircuitBreaker {
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probing = false;

  constructor(
    private readonly options: CircuitOptions,
    private readonly onTransition: (t: CircuitTransition) => void = () => {},
  ) {}

  /** The state as of `now` (an open circuit whose cool-down passed reads half-open). */
  state(now: number): CircuitState {
    if (this.#state === "open" && now - this.#openedAt >= this.options.cooldownMs) this.#move("half_open", 0);
    return this.#state;
  }

  /** May a call go out now? Every admitted call must be followed by exactly one `record`. */
  admit(now: number): Admission {
    const state = this.state(now);
    if (state === "closed") return { ok: true, probe: false };
    if (state === "half_open" && !this.#probing) {
      this.#probing = true;
      return { ok: true, probe: true };
    }
    // Half-open with its probe in flight: wait as long as a probe may take, at most a cool-down.
    const left = state === "open" ? this.#openedAt + this.options.cooldownMs - now : this.options.cooldownMs;
    return { ok: false, retryAfterMs: Math.max(1, left) };
  }

  /** The outcome of an admitted call. */
  record(admission: Admission & { ok: true }, health: AttemptHealth, now: number): void {
    if (admission.probe) {
      this.#probing = false;
      if (health === "success") this.#close();
      else this.#open(now, this.#failures + 1);
      return;
    }
    if (health === "success") {
      // A late answer from before the circuit opened says nothing about the probe to come.
      if (this.#state === "closed") this.#failures = 0;
      return;
    }
    if (this.#state !== "closed") return;
    this.#failures += 1;
    if (this.#failures >= this.options.failureThreshold) this.#open(now, this.#failures);
  }

  #open(now: number, failures: number): void {
    this.#failures = failures;
    this.#openedAt = now;
    this.#move("open", failures);
  }

  #close(): void {
    this.#failures = 0;
    this.#move("closed", 0);
  }

  #move(to: CircuitState, failures: number): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.onTransition({ from, to, failures });
  }
}
