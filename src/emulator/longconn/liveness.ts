// The gateway's side of keep-alive: a client that has sent nothing (no ping, no ACK) for two of the
// PingIntervals it was told is gone, so its connection is closed instead of soaking up deliveries
// that would each cost an ACK timeout.

/** setTimeout's ceiling; a huge configured PingInterval must not overflow it into a 1 ms timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const GRACE_MS = 1000;

export type LivenessOptions = {
  /** Fixed allowance in ms; by default twice the PingInterval last told to the client, plus 1 s. */
  idleTimeoutMs?: number;
  /** PingInterval (seconds) in the bootstrap answer the client connected with. */
  pingIntervalS: number;
  onExpired(): void;
};

export class Liveness {
  private lastSeen = Date.now();
  /** The last two PingIntervals told. The SDK arms its next ping before the pong that changes the
   * interval arrives, so the gap after a change can still be the previous one. */
  private told: [number, number];
  private paused = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly opts: LivenessOptions) {
    this.told = [opts.pingIntervalS, opts.pingIntervalS];
    this.schedule();
  }

  /** Any frame from the client proves it is there. */
  seen(): void {
    this.lastSeen = Date.now();
  }

  /** A pong carried this PingInterval (seconds). */
  toldPingInterval(seconds: number): void {
    this.told = [this.told[1], seconds];
  }

  /** The half-open fault freezes the server's view: it models a link whose death went unnoticed,
   * so the idle clock must not notice it either. Resuming starts a fresh allowance. */
  pause(on: boolean): void {
    this.paused = on;
    this.lastSeen = Date.now();
  }

  get expired(): boolean {
    return !this.paused && Date.now() - this.lastSeen >= this.limitMs();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The extra second covers transit and timer drift, which matter only at test-sized intervals. */
  private limitMs(): number {
    return this.opts.idleTimeoutMs ?? 2 * Math.max(...this.told) * 1000 + GRACE_MS;
  }

  /** One timer per connection, re-armed at the deadline rather than on every frame. */
  private schedule(): void {
    const left = this.paused ? this.limitMs() : this.lastSeen + this.limitMs() - Date.now();
    this.timer = setTimeout(() => this.check(), Math.min(Math.max(left, 0), MAX_TIMER_MS));
    this.timer.unref();
  }

  private check(): void {
    if (this.expired) this.opts.onExpired();
    else this.schedule();
  }
}
