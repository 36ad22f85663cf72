import { randomBytes } from "node:crypto";
import {
  type CallerKeyConfig,
  type EncryptionKey,
  type LarkAppConfig,
  PERMISSIONS,
  type Permission,
  SANDBOX_APP_ID,
  type ServiceConfig,
} from "./config/index.js";
import { hashCallerKey } from "./crypto/caller-keys.js";
import { startEmulator } from "./emulator/index.js";
import {
  type KeptSecret,
  type SecretSource,
  sandboxDevCallerKey,
  sandboxEncryptionKeys,
} from "./sandbox-secrets.js";
import type { Logger } from "./telemetry/logger.js";

export { SANDBOX_APP_ID } from "./config/index.js";

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

/** A running sandbox: the emulator, its app, the demo users, the dev caller key and the sealing keys. */
export interface Sandbox {
  readonly emulatorUrl: string;
  readonly app: LarkAppConfig;
  readonly callerKey: CallerKeyConfig;
  readonly devCallerKey: string;
  /** LARK_AUTH_ENCRYPTION_KEYS when set, else the sandbox key kept in the data dir. */
  readonly encryptionKeys: readonly EncryptionKey[];
  readonly users: readonly { open_id: string; name: string; email: string }[];
  /**
   * Makes `redirectUrl` the sandbox app's one registered redirect URL. Called once the HTTP port is
   * bound: the configured URL names port 0 when the port is chosen at listen time.
   */
  setRedirectUrl(redirectUrl: string): void;
  close(): Promise<void>;
}

type DemoUser = Sandbox["users"][number];

/** Where a browser reaches the emulator: a wildcard bind is advertised as localhost. */
function advertisedUrl(host: string, port: number): string {
  const advertised = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return `http://${advertised.includes(":") ? `[${advertised}]` : advertised}:${port}`;
}

/** The emulator on LARK_AUTH_EMULATOR_HOST (loopback by default: its control API is unauthenticated). */
async function launchEmulator(config: ServiceConfig) {
  const { emulatorHost: host, emulatorPort: port } = config.sandbox;
  const publicUrl = port !== 0 ? advertisedUrl(host, port) : undefined;
  const emulator = await startEmulator({ port, host, publicUrl });
  return { emulator, url: publicUrl ?? advertisedUrl(host, emulator.port) };
}

type Emulator = Awaited<ReturnType<typeof startEmulator>>;

/**
 * (Re-)registers the sandbox app with one redirect URL; the emulator refuses consent for any other.
 * Re-registering keeps the id and secret, so tenant tokens and the users' open_ids stay valid.
 */
function registerSandboxApp(emulator: Emulator, appSecret: string, redirectUrl: string): void {
  emulator.registerApp({
    app_id: SANDBOX_APP_ID,
    app_secret: appSecret,
    name: "Sandbox App",
    redirect_urls: [redirectUrl],
  });
}

/** Registers the sandbox app (fixed id, fresh secret) and the demo users. */
function seed(emulator: Emulator, config: ServiceConfig) {
  const appSecret = randomBytes(16).toString("hex");
  // Port 0 (bound later) names no real URL yet; setRedirectUrl fixes it once the port is bound.
  registerSandboxApp(
    emulator,
    appSecret,
    `${config.publicUrl ?? `http://localhost:${config.httpPort}`}/oauth/callback`,
  );
  const users: DemoUser[] = DEMO_USERS.map((u) => {
    const created = emulator.createUser({ ...u, app_id: SANDBOX_APP_ID });
    return { open_id: created.open_id, name: created.name, email: created.email };
  });
  return { appSecret, users };
}

/** What the banner announces besides the emulator's URL. */
interface BannerFacts {
  readonly host: string;
  readonly users: readonly DemoUser[];
  readonly devCallerKey: KeptSecret;
  readonly encryptionKey: SecretSource;
}

/** Where a secret came from, for the banner: the developer must know whether it survives a restart. */
function origin(secret: SecretSource, setting: string): string {
  if (secret.origin === "env") return `set by ${setting}`;
  const verb = secret.origin === "created" ? "generated and kept" : "kept";
  return `${verb} in ${secret.path}, reused on every start (${setting} overrides)`;
}

function printBanner(emulatorUrl: string, facts: BannerFacts): void {
  const everywhere = facts.host === "0.0.0.0" || facts.host === "::";
  const reach = everywhere
    ? `listening on every interface (${facts.host}): anyone who reaches it can read app secrets`
    : `listening on ${facts.host} only (LARK_AUTH_EMULATOR_HOST changes it)`;
  const devKey = facts.devCallerKey;
  const banner = [
    "",
    "==================== SANDBOX MODE (not for production) ====================",
    `Lark emulator:       ${emulatorUrl}   (chat pages: ${emulatorUrl}/_emulator/ui)`,
    `  ${reach}`,
    `Sandbox app:         ${SANDBOX_APP_ID}`,
    ...facts.users.map((u) => `Demo user:           ${u.name} <${u.email}> open_id=${u.open_id}`),
    `Dev caller key:      ${devKey.value}`,
    "  (every permission on the sandbox app; send as `authorization: Bearer <key>`)",
    `  ${origin(devKey, "LARK_AUTH_DEV_CALLER_KEY")}`,
    `Encryption key:      ${origin(facts.encryptionKey, "LARK_AUTH_ENCRYPTION_KEYS")}`,
    "===========================================================================",
    "",
  ];
  // Printed to stdout on purpose, outside the redacting logger: the developer needs the key.
  process.stdout.write(`${banner.join("\n")}\n`);
}

/**
 * Starts the in-process Lark emulator with a sandbox app and demo users, so a newcomer can
 * try the service without owning a Lark app. Announces itself loudly: it is not production.
 * The dev caller key and the sealing key are kept in the data dir, so restarts keep working with
 * what the last start printed and sealed. If seeding fails, the emulator is stopped again (its port
 * released) before the error propagates.
 */
export async function startSandbox(config: ServiceConfig, logger: Logger): Promise<Sandbox> {
  const devCallerKey = await sandboxDevCallerKey(config);
  const encryption = await sandboxEncryptionKeys(config);
  const { emulator, url } = await launchEmulator(config);
  let seeded: ReturnType<typeof seed>;
  try {
    seeded = seed(emulator, config);
  } catch (err) {
    await emulator.close();
    throw err;
  }
  const permissions = new Map([[SANDBOX_APP_ID, new Set<Permission>(PERMISSIONS)]]);
  const host = config.sandbox.emulatorHost;
  printBanner(url, { host, users: seeded.users, devCallerKey, encryptionKey: encryption.source });
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
    callerKey: { name: "sandbox-dev", keySha256: hashCallerKey(devCallerKey.value), permissions },
    devCallerKey: devCallerKey.value,
    encryptionKeys: encryption.keys,
    users: seeded.users,
    setRedirectUrl: (redirectUrl) => registerSandboxApp(emulator, seeded.appSecret, redirectUrl),
    close: () => emulator.close(),
  };
}
