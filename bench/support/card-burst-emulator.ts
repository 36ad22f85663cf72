// The card burst's emulator, in the orchestrator's process: the app registered, the message limits
// set, users made on demand, and the time the last card was created.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { startEmulator } from "../../src/emulator/index.js";

export interface LarkEmulatorHandle {
  readonly url: string;
  waitForConnection(): Promise<void>;
  /** `n` new users of the app; their open_ids. */
  createUsers(n: number, prefix: string): string[];
  /** Resolves with the latest card creation time (ms since the epoch) once every user has one. */
  lastCardTime(openIds: readonly string[], timeoutMs: number): Promise<number>;
  /** When each user's first card was created (ms since the epoch), for those that have one. */
  cardTimes(openIds: readonly string[]): number[];
  /** Message creates the emulator saw so far (more than the cards: a re-send after a rate-limit answer). */
  messageCreates(): number;
  close(): Promise<void>;
}

export async function startBenchEmulator(
  appId: string,
  appSecret: string,
  perSecond: number,
  perMinute: number,
): Promise<LarkEmulatorHandle> {
  const emulator = await startEmulator();
  emulator.registerApp({ app_id: appId, app_secret: appSecret, name: "Card burst" });
  emulator.configure({ rate_limit_per_second: perSecond, rate_limit_per_minute: perMinute });
  return {
    url: emulator.url,
    async waitForConnection() {
      const end = Date.now() + 60_000;
      while (emulator.connectionCount(appId) === 0) {
        if (Date.now() > end) throw new Error("the service never opened its long connection");
        await sleep(50);
      }
    },
    createUsers: (n, prefix) =>
      Array.from({ length: n }, (_, i) => {
        const seed = randomBytes(6).toString("hex");
        return emulator.createUser({ name: `${prefix}${i} ${seed}`, seed, app_id: appId }).open_id;
      }),
    async lastCardTime(openIds, timeoutMs) {
      const end = Date.now() + timeoutMs;
      let waiting = [...openIds];
      let last = 0;
      for (;;) {
        // Checks only the users still waiting, so polling stays cheap while cards go out.
        waiting = waiting.filter((id) => {
          const first = emulator.messagesOf(id)[0];
          if (!first) return true;
          last = Math.max(last, Number(first.create_time));
          return false;
        });
        if (waiting.length === 0) return last;
        if (Date.now() > end) throw new Error(`${waiting.length} cards never arrived`);
        await sleep(200);
      }
    },
    cardTimes: (openIds) =>
      openIds.flatMap((id) => {
        const first = emulator.messagesOf(id)[0];
        return first ? [Number(first.create_time)] : [];
      }),
    messageCreates: () =>
      emulator
        .calls({ appId })
        .filter((c) => c.method === "POST" && c.path === "/open-apis/im/v1/messages")
        .reduce((sum, c) => sum + c.count, 0),
    close: () => emulator.close(),
  };
}
