/**
 * `npm run emulator`: the emulator on its own, on 127.0.0.1:`LARK_EMULATOR_PORT` (default 8090). It seeds
 * one demo app and one demo user (ids stable across restarts) unless `LARK_EMULATOR_SEED=0`, and prints
 * them with control-API URLs that answer. A local tool: the demo app's secret is printed on purpose.
 */
import { type RunningEmulator, startEmulator } from "./index.js";

/** Fixed so a service configured against the demo app keeps working after the emulator restarts. */
const DEMO_APP = {
  app_id: "cli_de0000000000a001",
  app_secret: "demo-app-secret-local-emulator-only",
  name: "Demo App",
} as const;
const DEMO_USER = { name: "Alice Zhang", email: "alice@demo.example", seed: "alice" } as const;

/** One line and exit 1: this runs in a terminal, where a stack trace hides the one thing to fix. */
function fail(line: string): never {
  console.error(line);
  process.exit(1);
}

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === "") return 8090;
  const port = /^[0-9]{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    fail(`LARK_EMULATOR_PORT must be a decimal port number from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return port;
}

function seedFromEnv(value: string | undefined): boolean {
  if (value === undefined || value === "" || value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return fail(`LARK_EMULATOR_SEED must be 0 or 1, got ${JSON.stringify(value)}`);
}

async function start(port: number): Promise<RunningEmulator> {
  try {
    return await startEmulator({ port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    return fail(
      `Lark emulator: port ${port} on 127.0.0.1 is already in use; set LARK_EMULATOR_PORT to another port (0 picks a free one)`,
    );
  }
}

/** Registers the demo app and user, returning the lines that announce them. */
function seedDemo(emulator: RunningEmulator): string[] {
  emulator.registerApp(DEMO_APP);
  const user = emulator.createUser({ ...DEMO_USER, app_id: DEMO_APP.app_id });
  return [
    `  demo app:    app_id=${DEMO_APP.app_id} app_secret=${DEMO_APP.app_secret}`,
    `  demo user:   ${user.name} <${user.email}> open_id=${user.open_id}`,
    `               (LARK_EMULATOR_SEED=0 starts empty)`,
  ];
}

const port = portFromEnv(process.env.LARK_EMULATOR_PORT);
const seed = seedFromEnv(process.env.LARK_EMULATOR_SEED);
const emulator = await start(port);
const url = emulator.url;
console.log(
  [
    `Lark emulator listening on ${url}   (LARK_DOMAIN=${url} points the service or the node-sdk here)`,
    ...(seed ? seedDemo(emulator) : ["  no demo app or user (LARK_EMULATOR_SEED=0)"]),
    `  apps:        ${url}/_emulator/apps`,
    `  users:       ${url}/_emulator/users`,
    `  chat pages:  ${url}/_emulator/ui`,
  ].join("\n"),
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping the Lark emulator`);
  emulator.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
