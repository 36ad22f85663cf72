/**
 * `npm run emulator`: the emulator on its own, on `LARK_EMULATOR_PORT` (default 8090). It seeds nothing;
 * register apps and users through the control API (`POST /_emulator/apps`, `POST /_emulator/users`).
 */
import { startEmulator } from "./index.js";

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === "") return 8090;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`LARK_EMULATOR_PORT must be a port number, got ${JSON.stringify(value)}`);
    process.exit(1);
  }
  return port;
}

const emulator = await startEmulator({ port: portFromEnv(process.env.LARK_EMULATOR_PORT) });
console.log(`Lark emulator listening on ${emulator.url}`);
console.log(`  control API: ${emulator.url}/_emulator/   users page: ${emulator.url}/_emulator/ui`);

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
