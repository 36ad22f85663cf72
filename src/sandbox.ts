import { randomBytes } from "node:crypto";
import { PERMISSIONS, type Permission } from "./config/schema.js";
import type { CallerKeyConfig, LarkAppConfig, ServiceConfig } from "./config/types.js";
import { generateCallerKey, hashCallerKey } from "./crypto/caller-keys.js";
import { startEmulator } from "./emulator/index.js";
import type { Logger } from "./telemetry/logger.js";

/** The sandbox app's fixed id, so grants stored in the embedded database stay meaningful across restarts. */
export const SANDBOX_APP_ID = "cli_5a4db0c0a11ce001";

const DEMO_USERS = [
  {
    name: "Alice Zhang",
    en_name: "Alice Zhang",
    email: "alice@sandbox.example",
    mobile: "+8613800000001",
    seed: "alice",
  },
  { name: "Bob Li", en_name: "Bob Li", email: "bob@sandbox.example", mobile: "+8613800000002", seed: "bob" },
];

/** A running sandbox: the emulator, its app, the demo users and the development caller key. */
export interface Sandbox {
  readonly emulatorUrl: string;
  readonly app: LarkAppConfig;
  readonly callerKey: CallerKeyConfig;
  readonly devCallerKey: string;
  readonly users: readonly { open_id: string; name: string; email: string }[];
  close(): Promise<void>;
}

type DemoUser = Sandbox["users"][number];

/** The emulator, bound where the service binds and advertised at the URL a browser can open. */
async function launchEmulator(config: ServiceConfig) {
  // A wildcard bind is advertised as localhost, the address a developer's browser uses.
  const host = config.bindHost;
  const advertised = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  const port = config.sandbox.emulatorPort;
  const publicUrl = `http://${advertised.includes(":") ? `[${advertised}]` : advertised}:${port}`;
  const emulator = await startEmulator({ port, host, publicUrl: port !== 0 ? publicUrl : undefined });
  return { emulator, url: port !== 0 ? publicUrl : emulator.url };
}

/** Registers the sandbox app (fixed id, fresh secret) and the demo users. */
function seed(emulator: Awaited<ReturnType<typeof startEmulator>>, config: ServiceConfig) {
  const appSecret = randomBytes(16).toString("hex");
  const redirect = `${config.publicUrl ?? `http://localhost:${config.httpPort}`}/oauth/callback`;
  emulator.registerApp({
    app_id: SANDBOX_APP_ID,
    app_secret: appSecret,
    name: "Sandbox App",
    redirect_urls: [redirect],
  });
  const users: DemoUser[] = DEMO_USERS.map((u) => {
    const created = emulator.createUser({ ...u, app_id: SANDBOX_APP_ID });
    return { open_id: created.open_id, name: created.name, email: created.email };
  });
  return { appSecret, users };
}

function printBanner(emulatorUrl: string, users: readonly DemoUser[], devCallerKey: string): void {
  const banner = [
    "",
    "==================== SANDBOX MODE (not for production) ====================",
    `Lark emulator:       ${emulatorUrl}   (chat pages: ${emulatorUrl}/_emulator/ui)`,
    `Sandbox app:         ${SANDBOX_APP_ID}`,
    ...users.map((u) => `Demo user:           ${u.name} <${u.email}> open_id=${u.open_id}`),
    `Dev caller key:      ${devCallerKey}`,
    "  (every permission on the sandbox app; send as `authorization: Bearer <key>`)",
    "===========================================================================",
    "",
  ];
  // Printed to stdout on purpose, outside the redacting logger: the developer needs the key.
  process.stdout.write(`${banner.join("\n")}\n`);
}

/**
 * Starts the in-process Lark emulator with a sandbox app and demo users, so a newcomer can
 * try the service without owning a Lark app. Announces itself loudly: it is not production.
 * If seeding fails, the emulator is stopped again (its port released) before the error propagates.
 */
export async function startSandbox(config: ServiceConfig, logger: Logger): Promise<Sandbox> {
  const { emulator, url } = await launchEmulator(config);
  let seeded: ReturnType<typeof seed>;
  try {
    seeded = seed(emulator, config);
  } catch (err) {
    await emulator.close();
    throw err;
  }
  const devCallerKey = config.sandbox.devCallerKey ?? generateCallerKey();
  const permissions = new Map([[SANDBOX_APP_ID, new Set<Permission>(PERMISSIONS)]]);
  printBanner(url, seeded.users, devCallerKey);
  logger.warn({ emulator: url, app_id: SANDBOX_APP_ID }, "sandbox mode: using the built-in Lark emulator");
  return {
    emulatorUrl: url,
    app: {
      appId: SANDBOX_APP_ID,
      name: "Sandbox App",
      appSecret: seeded.appSecret,
      domain: url,
      flow: "redirect",
    },
    callerKey: { name: "sandbox-dev", keySha256: hashCallerKey(devCallerKey), permissions },
    devCallerKey,
    users: seeded.users,
    close: () => emulator.close(),
  };
}
