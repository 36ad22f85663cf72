// The outbound call policy's parts as pure functions: the circuit breaker and the back-off driven by a
// hand-moved clock, and the policy's retry and fail-fast decisions over real LarkErrors.
import { describe, expect, it } from "vitest";
import { classifyRefreshFailure } from "../../src/domain/grants/refresh-outcome.js";
import { LarkError } from "../../src/domain/lark-error.js";
import { retryDelayMs } from "../../src/lark/backoff.js";
import { createCallPolicy, outcomeOf } from "../../src/lark/call-policy.js";
import { CircuitBreaker, type CircuitTransition } from "../../src/lark/circuit-breaker.js";
import { createLogger } from "../../src/telemetry/logger.js";

const down = () =>
  new LarkError({ code: 0, kind: "transient", message: "Lark x failed: HTTP 503", httpStatus: 503 });
const refused = () => new LarkError({ code: 20003, kind: "terminal", message: "bad code", httpStatus: 400 });
const throttled = (reset?: number) =>
  new LarkError({
    code: 99991400,
    kind: "transient",
    message: "throttled",
    httpStatus: 429,
    retryAfterSeconds: reset,
  });

describe("circuit breaker", () => {
  const options = { failureThreshold: 3, cooldownMs: 1000 };

  it("opens after the threshold of consecutive failures, probes once after the cool-down, closes on success", () => {
    const transitions: CircuitTransition[] = [];
    const b = new CircuitBreaker(options, (t) => transitions.push(t));
    for (let i = 0; i < 2; i++) b.record(b.admit(0) as never, "failure", 0);
    expect(b.state(0)).toBe("closed");
    b.record(b.admit(10) as never, "failure", 10);
    expect(b.state(10)).toBe("open");
    expect(b.admit(500)).toEqual({ ok: false, retryAfterMs: 510 });
    const probe = b.admit(1010);
    expect(probe).toEqual({ ok: true, probe: true });
    // One probe at a time: the others still fail fast.
    expect(b.admit(1011).ok).toBe(false);
    b.record(probe as never, "success", 1020);
    expect(b.state(1020)).toBe("closed");
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual([
      "closed->open",
      "open->half_open",
      "half_open->closed",
    ]);
    expect(transitions[0]?.failures).toBe(3);
  });

  it("a failed probe reopens for a whole new cool-down", () => {
    const b = new CircuitBreaker(options);
    for (let i = 0; i < 3; i++) b.record(b.admit(0) as never, "failure", 0);
    const probe = b.admit(1000);
    b.record(probe as never, "failure", 1200);
    expect(b.state(1200)).toBe("open");
    expect(b.admit(2100)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(b.admit(2200)).toEqual({ ok: true, probe: true });
  });

  it("an answer in between resets the count: only consecutive failures open it", () => {
    const b = new CircuitBreaker(options);
    for (let i = 0; i < 10; i++) b.record(b.admit(i) as never, i % 2 ? "success" : "failure", i);
    expect(b.state(10)).toBe("closed");
  });

  it("late failures of calls admitted before it opened neither extend nor re-log the open state", () => {
    const transitions: CircuitTransition[] = [];
    const b = new CircuitBreaker(options, (t) => transitions.push(t));
    const inFlight = [b.admit(0), b.admit(0), b.admit(0), b.admit(0), b.admit(0)];
    for (const a of inFlight) b.record(a as never, "failure", 5);
    expect(transitions).toHaveLength(1);
    expect(b.admit(1005)).toEqual({ ok: true, probe: true });
  });
});

describe("back-off", () => {
  const o = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

  it("doubles with jitter in [cap/2, cap], capped, and stops after the last attempt", () => {
    expect(retryDelayMs(1, undefined, o, () => 0)).toBe(50);
    expect(retryDelayMs(1, undefined, o, () => 1)).toBe(100);
    expect(retryDelayMs(3, undefined, o, () => 1)).toBe(400);
    expect(retryDelayMs(3, undefined, { ...o, maxDelayMs: 300 }, () => 1)).toBe(300);
    expect(retryDelayMs(4, undefined, o, () => 1)).toBeUndefined();
  });

  it("waits out Lark's rate-limit reset (plus jitter), but not one longer than the longest wait", () => {
    expect(retryDelayMs(1, 800, o, () => 0)).toBe(800);
    expect(retryDelayMs(1, 800, o, () => 1)).toBe(900);
    expect(retryDelayMs(1, 2000, o, () => 0)).toBeUndefined();
  });
});

describe("outcomes", () => {
  it("labels each failure by what it says about Lark", () => {
    expect(outcomeOf(down())).toBe("server_error");
    expect(outcomeOf(refused())).toBe("lark_error");
    expect(outcomeOf(throttled())).toBe("rate_limited");
    expect(outcomeOf(new LarkError({ code: 0, kind: "transient", message: "t", noAnswer: "timeout" }))).toBe(
      "timeout",
    );
    expect(outcomeOf(new LarkError({ code: 0, kind: "transient", message: "n", noAnswer: "network" }))).toBe(
      "network",
    );
    expect(outcomeOf(new Error("a bug"))).toBe("lark_error");
  });
});

/** A policy on a hand-moved clock whose sleeps advance it; returns the waits it asked for. */
function policyOn(options: Parameters<typeof createCallPolicy>[0]["options"]) {
  let t = 0;
  const slept: number[] = [];
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (l: string) => lines.push(l) } });
  const policy = createCallPolicy({
    appIds: ["cli_a", "cli_b"],
    logger,
    options,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
    random: () => 0.5,
  });
  return { policy, slept, lines, advance: (ms: number) => (t += ms) };
}

/** A call failing with each of `errors` in turn, then answering "ok"; counts its attempts. */
function scripted(...errors: LarkError[]) {
  const call = async () => {
    call.count += 1;
    const err = errors[call.count - 1];
    if (err) throw err;
    return "ok";
  };
  call.count = 0;
  return call;
}

describe("call policy", () => {
  const options = {
    maxAttempts: 3,
    baseDelayMs: 100,
    maxDelayMs: 2000,
    failureThreshold: 4,
    cooldownMs: 10_000,
  };

  it("retries a safe call on 5xx within its attempts, never a code exchange or a business error", async () => {
    const { policy, slept } = policyOn(options);
    const info = scripted(down(), down());
    await expect(policy.run("cli_a", "authen.user_info", info)).resolves.toBe("ok");
    expect(info.count).toBe(3);
    expect(slept).toEqual([75, 150]);

    const exchange = scripted(down());
    await expect(
      policy.run("cli_a", "authen.oauth_token.authorization_code", exchange),
    ).rejects.toMatchObject({ httpStatus: 503 });
    expect(exchange.count).toBe(1);
    const send = scripted(down());
    await expect(policy.run("cli_a", "im.message.create", send, { retry: false })).rejects.toThrow();
    expect(send.count).toBe(1);
    const bad = scripted(refused());
    await expect(policy.run("cli_a", "authen.user_info", bad)).rejects.toMatchObject({ code: 20003 });
    expect(bad.count).toBe(1);
  });

  it("waits the rate-limit reset Lark answered before the retry", async () => {
    const { policy, slept } = policyOn(options);
    await expect(policy.run("cli_a", "auth.tenant_access_token", scripted(throttled(1)))).resolves.toBe("ok");
    expect(slept).toEqual([1050]);
    const tooLong = scripted(throttled(60));
    await expect(policy.run("cli_a", "auth.tenant_access_token", tooLong)).rejects.toMatchObject({
      retryAfterSeconds: 60,
    });
    expect(tooLong.count).toBe(1);
  });

  it("opens per app: B keeps working, A fails fast as transient and never sent, then recovers after the cool-down", async () => {
    const { policy, lines, advance } = policyOn(options);
    const failing = scripted(down(), down(), down(), down(), down(), down());
    await expect(policy.run("cli_a", "im.message.patch", failing)).rejects.toThrow();
    await expect(policy.run("cli_a", "im.message.patch", failing)).rejects.toMatchObject({
      noAnswer: "not_sent",
    });
    expect(failing.count).toBe(4);

    const fast = scripted();
    const open = await policy
      .run("cli_a", "authen.oauth_token.refresh_token", fast)
      .catch((e: LarkError) => e);
    expect(fast.count).toBe(0);
    expect(open).toMatchObject({ kind: "transient", noAnswer: "not_sent", code: 0 });
    // The refresh domain must not take a never-sent refresh for one whose answer was lost.
    expect(classifyRefreshFailure(open as LarkError)).toBe("transient");
    await expect(policy.run("cli_b", "im.message.patch", scripted())).resolves.toBe("ok");

    advance(10_000);
    await expect(policy.run("cli_a", "im.message.patch", scripted())).resolves.toBe("ok");
    const changes = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => "to" in r);
    expect(changes.map((r) => r.to)).toEqual(["open", "half_open", "closed"]);
    expect(changes[0]).toMatchObject({ app_id: "cli_a", consecutive_failures: 4 });
  });

  it("refuses an app it was not configured with", async () => {
    const { policy } = policyOn(options);
    await expect(policy.run("cli_z", "authen.user_info", scripted())).rejects.toMatchObject({
      kind: "terminal",
    });
  });
});
