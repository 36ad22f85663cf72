import { buildApp } from "./app.js";
import { ConfigError, loadConfig } from "./config/index.js";
import { scrubString } from "./telemetry/redact.js";

/**
 * Entry point: config -> app -> listen -> signals. A bad configuration prints every
 * problem and exits 1 before anything starts.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) console.error(`config error: ${problem}`);
    process.exit(1);
  }
  const app = await buildApp(config);
  let signals = 0;
  const stop = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1); // A second Ctrl-C means "now".
    app.logger.info({ signal }, "signal received");
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  // Start-up errors (database URLs, SDK errors) can carry credentials: scrub before printing.
  console.error(
    `lark-auth-service failed to start: ${scrubString(err instanceof Error ? err.message : String(err))}`,
  );
  process.exit(1);
});
