// The real node-sdk gateway (src/lark/) pointed at an in-process emulator, for use-case tests.
import type { LarkGateway } from "../../src/domain/ports.js";
import type { AppView, RunningEmulator } from "../../src/emulator/index.js";
import type { CallPolicyOptions } from "../../src/lark/call-policy.js";
import { createLarkGateway, type LarkService } from "../../src/lark/gateway.js";
import { createLogger } from "../../src/telemetry/logger.js";

/**
 * A gateway for `apps` (registered in `emulator`), talking to the emulator through the official SDK,
 * under the default call policy unless `policy` says otherwise.
 */
export function emulatorGateway(
  emulator: RunningEmulator,
  apps: readonly AppView[],
  policy?: Partial<CallPolicyOptions>,
): LarkGateway & LarkService {
  return createLarkGateway({
    apps: apps.map((a) => ({
      appId: a.app_id,
      name: a.name ?? a.app_id,
      appSecret: a.app_secret,
      domain: emulator.url,
      flow: "redirect" as const,
    })),
    logger: createLogger({ level: "silent" }),
    policy,
  });
}
