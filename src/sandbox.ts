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

/**
 * Starts the in-process Lark emulator with a sandbox app and demo users, so a newcomer can
 * try the service without owning a Lark app. Announces itself loudly: it is not production.
 */
export async function startSandbox(config: ServiceConfig, logger: Logger): Promise<Sandbox> {
  // Browsers open the emulator's pages, so it binds where the service binds; a wildcard bind is
  // advertised as localhost, the address a developer's browser uses.
  const host = config.bindHost;
  const advertised = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  const publicUrl = `http://${advertised.includes(":") ? `[${advertised}]` : advertised}:${config.sandbox.emulatorPort}`;
  const fixedPort = config.sandbox.emulatorPort !== 0;
  const emulator = await startEmulator({
    port: config.sandbox.emulatorPort,
    host,
    publicUrl: fixedPort ? publicUrl : undefined,
  });
  const emulatorUrl = fixedPort ? publicUrl : emulator.url;
  const appSecret = randomBytes(16).toString("hex");
  const redirect = `${config.publicUrl ?? `http://localhost:${config.httpPort}`}/oauth/callback`;
  await emulator.registerApp({
    app_id: SANDBOX_APP_ID,
    app_secret: appSecret,
    name: "Sandbox App",
    redirect_urls: [redirect],
  });
  const users = [];
  for (const u of DEMO_USERS) users.push(await emulator.createUser({ ...u, app_id: SANDBOX_APP_ID }));
  const devCallerKey = config.sandbox.devCallerKey ?? generateCallerKey();
  const permissions = new Map([[SANDBOX_APP_ID, new Set<Permission>(PERMISSIONS)]]);
  const app: LarkAppConfig = {
    appId: SANDBOX_APP_ID,
    name: "Sandbox App",
    appSecret,
    domain: emulatorUrl,
    flow: "redirect",
  };
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
  logger.warn(
    { emulator: emulatorUrl, app_id: SANDBOX_APP_ID },
    "sandbox mode: using the built-in Lark emulator",
  );
  return {
    emulatorUrl,
    app,
    callerKey: { name: "sandbox-dev", keySha256: hashCallerKey(devCallerKey), permissions },
    devCallerKey,
    users: users.map((u) => ({ open_id: u.open_id, name: u.name, email: u.email })),
    close: () => emulator.close(),
  };
}
