// 1,000 StartAuthorization calls for 1,000 users at once: all accepted, every card delivered, and not
// one rate-limit answer from the emulator (each card sent exactly once). PostgreSQL only: the embedded
// database serialises every transaction and would make this a test of PGlite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FlowEnv, startFlowEnv } from "../support/auth-flow.js";
import { cardBurst, minimumMs, raiseEmulatorLimits } from "../support/card-burst.js";
import { skipWithoutPostgres } from "../support/db.js";

const PER_SECOND = 200;
const PER_MINUTE = 12_000;

describe.skipIf(skipWithoutPostgres("auth-flow-burst"))("a burst of 1,000 authorizations", () => {
  let env: FlowEnv;
  beforeAll(async () => {
    env = await startFlowEnv("redirect", {
      config: (c) => ({
        ...c,
        options: { ...c.options, larkRateLimitPerSecond: PER_SECOND, larkRateLimitPerMinute: PER_MINUTE },
      }),
    });
    raiseEmulatorLimits(env.emulator, PER_SECOND, PER_MINUTE);
  });
  afterAll(async () => {
    await env?.close();
  });

  it("accepts every call at once and delivers every card with zero rate-limit answers", {
    timeout: 600_000,
  }, async () => {
    const result = await cardBurst(env, 1000);
    expect(result.failures).toBe(0);
    expect(result.sendCalls).toBe(1000);
    expect(env.t.logs.lines.filter((l) => l.includes("card work failed"))).toEqual([]);
    // Smoothed, not failed: it cannot beat the limit, and takes longer than the limit allows.
    expect(result.lastCardMs).toBeGreaterThanOrEqual(minimumMs(1000, PER_SECOND) * 0.75);
  });
});
