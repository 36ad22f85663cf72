/**
 * Entry point: Node check -> config -> app -> listen -> signals. A bad configuration prints every
 * problem and exits 1 before anything starts.
 *
 * Nothing is imported statically: ES modules link every import before any code runs, so on an old
 * Node the service's dependencies would fail first with a cryptic missing-export error (`globSync`
 * from node:fs) instead of the one clear line below.
 */
import type { App } from "./app.js";
import type { TracingSdk } from "./telemetry/tracing-sdk.js";

/** The oldest Node the service runs on (package.json `engines`): node:fs globSync, require(esm). */
const MINIMUM_NODE = [22, 17] as const;

function nodeIsTooOld(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1]);
}

/**
 * A second signal this soon after the first is the same Ctrl-C delivered twice: the terminal sends
 * it to the whole process group, and `npm start` forwards its own copy to node as well.
 */
const SAME_SIGNAL_MS = 1000;

function handleSignals(app: App, tracing?: TracingSdk): void {
  let first: number | undefined;
  const stop = (signal: string) => {
    if (first !== undefined) {
      if (Date.now() - first < SAME_SIGNAL_MS) return;
      process.exit(1); // A second Ctrl-C, pressed on purpose, means "now".
    }
    first = Date.now();
    app.logger.info({ signal }, "signal received");
    // The spans of the shutdown itself are flushed too, before the process exits.
    app.close().then(
      () => flushed(tracing).then(() => process.exit(0)),
      (err: unknown) => {
        app.logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function main(): Promise<void> {
  const { ConfigError, loadConfig } = await import("./config/index.js");
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) console.error(`config error: ${problem}`);
    process.exit(1);
  }
  // Registered before the app is built, so every span of the start-up already goes out.
  const tracing = config.tracing?.otlp
    ? (await import("./telemetry/tracing-sdk.js")).startOtlpTracing(config.tracing.serviceName)
    : undefined;
  const { buildApp } = await import("./app.js");
  try {
    handleSignals(await buildApp(config), tracing);
  } catch (err) {
    await flushed(tracing);
    throw withPortHint(err, config);
  }
}

/** Flushes queued spans; an unreachable collector must not stop the process from exiting. */
async function flushed(tracing: TracingSdk | undefined): Promise<void> {
  await tracing?.shutdown().catch((err: unknown) => console.error(`trace export failed: ${String(err)}`));
}

/** A port already in use names the variable that moves it (the emulator's own, in sandbox mode). */
function withPortHint(
  err: unknown,
  config: { grpcPort: number; httpPort: number; sandbox: { enabled: boolean; emulatorPort: number } },
): unknown {
  const e = err as NodeJS.ErrnoException & { port?: number };
  // grpc-js wraps the bind error in its own message; the HTTP server's keeps the code.
  if (e?.code !== "EADDRINUSE" && !/EADDRINUSE/.test(String(e?.message))) return err;
  const port = e.port ?? Number(/:(\d+)\]?\s*$/.exec(e.message)?.[1]);
  const variable =
    port === config.grpcPort
      ? "LARK_AUTH_GRPC_PORT"
      : port === config.httpPort
        ? "LARK_AUTH_HTTP_PORT"
        : config.sandbox.enabled && port === config.sandbox.emulatorPort
          ? "LARK_AUTH_EMULATOR_PORT"
          : undefined;
  if (!variable) return err;
  return new Error(`port ${port} is already in use; set ${variable} to another port (0 picks a free one)`);
}

if (nodeIsTooOld(process.versions.node)) {
  console.error(
    `lark-auth-service needs Node >= ${MINIMUM_NODE.join(".")}, but this is Node ${process.versions.node}: ` +
      'run it with "npm start" (the project pins Node 24 through its "node" devDependency).',
  );
  process.exit(1);
}

main().catch(async (err: unknown) => {
  // Start-up errors (database URLs, SDK errors) can carry credentials: scrub before printing.
  const { scrubString } = await import("./telemetry/redact.js");
  console.error(
    `lark-auth-service failed to start: ${scrubString(err instanceof Error ? err.message : String(err))}`,
  );
  process.exit(1);
});
