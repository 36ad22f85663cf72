// The card burst (issue 7, "a burst beyond Lark's limits is smoothed, not failed"): N StartAuthorization
// calls for N users at once against the real app and emulator; shared by the test and bench/card-burst.ts.
import { performance } from "node:perf_hooks";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { byOpenId, type FlowEnv, newUser, waitFor } from "./auth-flow.js";
import { TEST_APP_ID } from "./test-app.js";

export interface BurstResult {
  readonly sessions: number;
  /** Milliseconds from the first call to the last accepted answer. */
  readonly acceptMs: number;
  /** Milliseconds from the first call to the last card's creation in the emulator. */
  readonly lastCardMs: number;
  /** StartAuthorization latencies, ms, sorted. */
  readonly latencies: readonly number[];
  /** POST /open-apis/im/v1/messages calls the emulator saw: more than `sessions` means a retried send. */
  readonly sendCalls: number;
  readonly failures: number;
}

/** The emulator's message-create limits as configured: both must be set high enough for a short run. */
export function raiseEmulatorLimits(emulator: RunningEmulator, perSecond: number, perMinute: number): void {
  emulator.configure({ rate_limit_per_second: perSecond, rate_limit_per_minute: perMinute });
}

/** The least time `n` cards can take under a sustained limit of `perSecond` (the per-minute one not binding). */
export function minimumMs(n: number, perSecond: number): number {
  return (n / perSecond) * 1000;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const sendCalls = (emulator: RunningEmulator) =>
  emulator
    .calls({ appId: TEST_APP_ID })
    .filter((c) => c.method === "POST" && c.path === "/open-apis/im/v1/messages")
    .reduce((sum, c) => sum + c.count, 0);

export async function cardBurst(env: FlowEnv, n: number): Promise<BurstResult> {
  const users = Array.from({ length: n }, (_, i) => newUser(env.emulator, `B${i}`));
  const callsBefore = sendCalls(env.emulator);
  const { auth } = env.t.clients();
  const wallStart = Date.now();
  const t0 = performance.now();
  let failures = 0;
  const latencies = await Promise.all(
    users.map(async (u) => {
      const begin = performance.now();
      await auth
        .startAuthorization({
          appId: TEST_APP_ID,
          user: byOpenId(u.open_id),
          scopes: ["contact:user.base:readonly"],
        })
        .catch(() => {
          failures += 1;
        });
      return performance.now() - begin;
    }),
  );
  const acceptMs = performance.now() - t0;
  await waitFor(
    () => users.every((u) => env.emulator.messagesOf(u.open_id).length > 0),
    `${n} cards`,
    600_000,
  );
  const created = users.map((u) => Number(env.emulator.messagesOf(u.open_id)[0]?.create_time ?? 0));
  return {
    sessions: n,
    acceptMs,
    lastCardMs: Math.max(...created) - wallStart,
    latencies: latencies.sort((a, b) => a - b),
    sendCalls: sendCalls(env.emulator) - callsBefore,
    failures,
  };
}
