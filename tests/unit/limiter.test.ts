import { describe, expect, it } from "vitest";
import { createLarkLimiters } from "../../src/jobs/limits.js";
import { createRateLimiter, createShareLimiter, type RateWindow } from "../../src/jobs/rate-limiter.js";
import { FakeClock, flush } from "./jobs-fake-clock.js";

const WINDOWS: RateWindow[] = [
  { limit: 5, windowMs: 1000 },
  { limit: 12, windowMs: 10_000 },
];

/** Starts `n` acquisitions on `key` and records the fake time at which each one was granted. */
function start(limiter: ReturnType<typeof createRateLimiter>, clock: FakeClock, key: string, n: number) {
  const granted: { i: number; at: number }[] = [];
  for (let i = 0; i < n; i++) void limiter.acquire(key).then(() => granted.push({ i, at: clock.now() }));
  return granted;
}

/** The most grants inside any interval of `windowMs` (checked from every grant). */
function maxInAnyWindow(times: number[], windowMs: number): number {
  return Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + windowMs).length));
}

describe("rate limiter", () => {
  it("never exceeds any of its windows, and keeps capacity busy", async () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ windows: WINDOWS, clock });
    const granted = start(limiter, clock, "app", 30);
    await clock.advance(60_000);
    expect(granted).toHaveLength(30);
    const times = granted.map((g) => g.at);
    expect(maxInAnyWindow(times, 1000)).toBeLessThanOrEqual(5);
    expect(maxInAnyWindow(times, 10_000)).toBeLessThanOrEqual(12);
    // Bursts of 5/s up to 12 per 10 s, repeated as grants age out: the 30th is due at 21 s, not later.
    expect(Math.max(...times) - (clock.now() - 60_000)).toBe(21_000);
  });

  it("counts an admitted call until its answer: a late answer pushes the next grant back", async () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ windows: [{ limit: 2, windowMs: 1000 }], clock });
    const t0 = clock.now();
    const slow = await limiter.admit("app");
    const quick = await limiter.admit("app");
    quick(); // answered at once: counts until 1000 ms
    const granted: number[] = [];
    for (let i = 0; i < 2; i++) void limiter.admit("app").then(() => granted.push(clock.now() - t0));
    await clock.advance(900);
    slow(); // answered at 900 ms: the server may have counted it in its next second
    await clock.advance(2000);
    // One slot frees when the quick call's window ends, the other only a window after the slow answer.
    expect(granted).toEqual([1000, 1900]);
  });

  it("counts an answered call from when the server says it took it, never outside admission..answer", async () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ windows: [{ limit: 3, windowMs: 1000 }], clock });
    const t0 = clock.now();
    const told = await limiter.admit("app");
    const early = await limiter.admit("app");
    const late = await limiter.admit("app");
    const granted: number[] = [];
    for (let i = 0; i < 3; i++) void limiter.admit("app").then(() => granted.push(clock.now() - t0));
    await clock.advance(600);
    told(t0 + 100); // the server took it 100 ms after admission: counts until 1100 ms
    early(t0 - 5000); // a server clock behind ours: never before admission, so until 1000 ms
    late(t0 + 9000); // a server clock ahead: never after the answer, so until 1600 ms
    await clock.advance(2000);
    expect(granted).toEqual([1000, 1100, 1600]);
  });

  it("serves waiters in arrival order", async () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ windows: WINDOWS, clock });
    const granted = start(limiter, clock, "app", 20);
    await clock.advance(30_000);
    expect(granted.map((g) => g.i)).toEqual([...Array(20).keys()]);
  });

  it("a costly head blocks cheaper ones behind it (no overtaking)", async () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ windows: [{ limit: 5, windowMs: 1000 }], clock });
    const order: string[] = [];
    await limiter.acquire("k", { cost: 4 });
    void limiter.acquire("k", { cost: 3 }).then(() => order.push("big"));
    void limiter.acquire("k").then(() => order.push("small"));
    await flush();
    expect(order).toEqual([]);
    await clock.advance(1000);
    expect(order).toEqual(["big", "small"]);
  });

  it("keeps keys apart", async () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ windows: [{ limit: 1, windowMs: 1000 }], clock });
    await limiter.acquire("a");
    await expect(limiter.acquire("b")).resolves.toBeUndefined();
  });

  it("an aborted waiter leaves the queue without consuming, and the next one moves up", async () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ windows: [{ limit: 1, windowMs: 1000 }], clock });
    await limiter.acquire("k");
    const abort = new AbortController();
    const aborted = limiter.acquire("k", { signal: abort.signal });
    const granted = start(limiter, clock, "k", 1);
    abort.abort(new Error("gave up"));
    await expect(aborted).rejects.toThrow("gave up");
    await clock.advance(999);
    expect(granted).toEqual([]);
    await clock.advance(1);
    expect(granted).toEqual([{ i: 0, at: clock.now() }]);
  });

  it("rejects an already aborted signal and a cost that can never fit", async () => {
    const limiter = createRateLimiter({ windows: [{ limit: 2, windowMs: 1000 }], clock: new FakeClock() });
    await expect(limiter.acquire("k", { signal: AbortSignal.abort(new Error("no")) })).rejects.toThrow("no");
    await expect(limiter.acquire("k", { cost: 3 })).rejects.toBeInstanceOf(RangeError);
  });

  it("forgets idle keys once their grants have left every window", async () => {
    const clock = new FakeClock();
    const limiter = createRateLimiter({ windows: WINDOWS, clock });
    await limiter.acquire("k");
    expect(clock.pending).toBe(1);
    await clock.advance(10_000);
    expect(clock.pending).toBe(0);
  });
});

describe("share limiter", () => {
  it("holds a flood of shared calls to its share, leaving the rest of the budget to others", async () => {
    const clock = new FakeClock();
    const parent = createRateLimiter({ windows: [{ limit: 10, windowMs: 1000 }], clock });
    const polls = createShareLimiter(parent, { windows: [{ limit: 3, windowMs: 1000 }], clock });
    const pollTimes: number[] = [];
    for (let i = 0; i < 1000; i++) void polls.acquire("app").then(() => pollTimes.push(clock.now()));
    await flush();
    // Others arriving after the flood still get the parent's remaining 7 per second at once.
    const others: number[] = [];
    for (let i = 0; i < 7; i++) void parent.acquire("app").then(() => others.push(clock.now()));
    await flush();
    expect(others).toEqual(Array(7).fill(clock.now()));
    await clock.advance(5000);
    expect(maxInAnyWindow(pollTimes, 1000)).toBeLessThanOrEqual(3);
    expect(pollTimes.length).toBeGreaterThanOrEqual(15);
  });

  it("defaults stay below Lark's documented limits", async () => {
    const clock = new FakeClock();
    const limiters = createLarkLimiters({ clock });
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) void limiters.messages.acquire("cli").then(() => times.push(clock.now()));
    await clock.advance(180_000);
    expect(times).toHaveLength(2000);
    expect(maxInAnyWindow(times, 1000)).toBe(45);
    expect(maxInAnyWindow(times, 60_000)).toBe(900);
    const user: number[] = [];
    for (let i = 0; i < 20; i++) void limiters.perUser.acquire("cli\nou").then(() => user.push(clock.now()));
    await clock.advance(10_000);
    expect(maxInAnyWindow(user, 1000)).toBe(4);
  });
});
