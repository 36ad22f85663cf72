// The outbound call policy against the emulator's faults, per app: a 5xx is retried a bounded number
// of times, a lasting one opens that app's circuit (calls then fail fast, Lark is not asked) while
// another app carries on, and the circuit closes by itself once Lark answers again.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LarkAppConfig } from "../../src/config/types.js";
import { LarkError } from "../../src/domain/lark-error.js";
import type { AppView, RunningEmulator, UserView } from "../../src/emulator/index.js";
import { createLarkGateway } from "../../src/lark/gateway.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startTestEmulator } from "../conformance/emulator-support.js";

const MESSAGES = "/open-apis/im/v1/messages";
let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await emulator?.close();
});

function newApp(): { app: AppView; user: UserView; config: LarkAppConfig } {
  const app = emulator.registerApp({});
  const seed = randomBytes(6).toString("hex");
  const user = emulator.createUser({ name: `U ${seed}`, seed, app_id: app.app_id });
  const config = {
    appId: app.app_id,
    name: app.app_id,
    appSecret: app.app_secret,
    domain: emulator.url,
    flow: "redirect" as const,
  };
  return { app, user, config };
}

const card = { schema: "2.0", body: { elements: [{ tag: "markdown", content: "hi" }] } };
const sent = (appId: string) =>
  emulator.calls({ appId, path: MESSAGES }).reduce((n, c) => n + (c.method === "POST" ? c.count : 0), 0);

describe("the outbound call policy against Lark's faults", () => {
  it("retries a 5xx within its attempts, opens one app's circuit on a lasting one, and closes it once Lark answers", async () => {
    const a = newApp();
    const b = newApp();
    const gateway = createLarkGateway({
      apps: [a.config, b.config],
      logger: createLogger({ level: "silent" }),
      policy: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100, failureThreshold: 6, cooldownMs: 500 },
    });
    // The uuid makes a card send safe to repeat; each call is one logical send.
    const send = (x: { app: AppView; user: UserView }) =>
      gateway.sendCard(x.app.app_id, { kind: "open_id", value: x.user.open_id }, card, randomUUID());
    emulator.addFault({ path: MESSAGES, method: "POST", app_id: a.app.app_id, status: 503 });
    for (const attempts of [3, 6]) {
      await expect(send(a)).rejects.toMatchObject({ kind: "transient", httpStatus: 503 });
      expect(sent(a.app.app_id)).toBe(attempts);
    }
    // Open: fails fast as transient, and Lark is not asked.
    const fast = await send(a).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(LarkError);
    expect(fast).toMatchObject({ kind: "transient", noAnswer: "not_sent" });
    expect(sent(a.app.app_id)).toBe(6);
    // The other app is not affected.
    await expect(send(b)).resolves.toMatchObject({ messageId: expect.any(String) });
    emulator.clearFaults();
    await new Promise((r) => setTimeout(r, 600));
    await expect(send(a)).resolves.toMatchObject({ messageId: expect.any(String) });
    await expect(send(a)).resolves.toMatchObject({ messageId: expect.any(String) });
    expect(sent(a.app.app_id)).toBe(8);
  });

  it("waits out a rate-limit answer, and a passing 5xx, without failing the call", async () => {
    const a = newApp();
    const gateway = createLarkGateway({ apps: [a.config], logger: createLogger({ level: "silent" }) });
    const send = () =>
      gateway.sendCard(a.app.app_id, { kind: "open_id", value: a.user.open_id }, card, randomUUID());
    emulator.addFault({ path: MESSAGES, method: "POST", app_id: a.app.app_id, code: 99991400, count: 1 });
    await expect(send()).resolves.toMatchObject({ messageId: expect.any(String) });
    emulator.addFault({ path: MESSAGES, method: "POST", app_id: a.app.app_id, status: 500, count: 2 });
    await expect(send()).resolves.toMatchObject({ messageId: expect.any(String) });
    expect(sent(a.app.app_id)).toBe(5);
    emulator.clearFaults();
  });
});
