/**
 * Runs before every test file (vitest `setupFiles`): the suite-wide secret scan of issue 12 item 8
 * and the egress guard. The wrappers below observe the real modules and pass everything through:
 * - secrets are recorded where they come from: the emulator's codes, tokens, app secrets and
 *   verification tokens as it issues them, caller keys as they are generated, and every app secret
 *   and encryption key a service instance is built with;
 * - every log line of every logger, every ended span and every metrics exposition is scanned, and
 *   each registry's series once more when the file ends;
 * - a leak, or a connection to anything off this machine, fails the file in an afterAll.
 * Each factory runs only when its module is loaded, so a unit test file pays for none of them.
 */
import { afterAll, vi } from "vitest";
import { installEgressGuard } from "./egress-guard.js";
import { describeLeaks } from "./leak-ledger.js";
import { scan } from "./scan-state.js";
import { sweepRegistries } from "./telemetry-taps.js";

type Ids = typeof import("../../src/emulator/ids.js");

vi.mock(import("../../src/emulator/ids.js"), async (importOriginal) => {
  const ids = await importOriginal();
  const { scan } = await import("./scan-state.js");
  const issued =
    <A extends unknown[]>(source: string, make: (...a: A) => string) =>
    (...a: A) => {
      const value = make(...a);
      scan.ledger.secret(value, source);
      return value;
    };
  return {
    ...ids,
    randomUrlSafe: issued("an emulator code or verification token", ids.randomUrlSafe),
    newAppSecret: issued("an emulator app secret", ids.newAppSecret),
    newTenantToken: issued("an emulator tenant_access_token", ids.newTenantToken),
    newCardToken: issued("an emulator card token", ids.newCardToken),
    newUserCode: issued("an emulator device user code", ids.newUserCode),
    newJwtLikeToken: issued("an emulator user_access_token or refresh_token", ids.newJwtLikeToken),
  } satisfies Ids;
});

vi.mock(import("../../src/crypto/caller-keys.js"), async (importOriginal) => {
  const keys = await importOriginal();
  const { scan } = await import("./scan-state.js");
  return {
    ...keys,
    generateCallerKey: () => {
      const key = keys.generateCallerKey();
      scan.ledger.secret(key, "a generated caller key");
      return key;
    },
  };
});

vi.mock(import("../../src/config/index.js"), async (importOriginal) => {
  const config = await importOriginal();
  const { scan } = await import("./scan-state.js");
  return {
    ...config,
    parseEncryptionKeys: (...args: Parameters<typeof config.parseEncryptionKeys>) => {
      const keys = config.parseEncryptionKeys(...args);
      for (const k of keys) scan.ledger.secret(k.key.toString("base64"), "an encryption key");
      return keys;
    },
  };
});

vi.mock(import("../../src/app.js"), async (importOriginal) => {
  const app = await importOriginal();
  const { scan } = await import("./scan-state.js");
  return {
    ...app,
    buildApp: (config, overrides) => {
      for (const a of config.apps) scan.ledger.secret(a.appSecret, `the app secret of ${a.appId}`);
      for (const k of config.encryptionKeys) {
        scan.ledger.secret(k.key.toString("base64"), "an encryption key");
        scan.ledger.secret(k.key.toString("base64url"), "an encryption key");
      }
      scan.ledger.secret(config.sandbox.devCallerKey, "the sandbox caller key");
      return app.buildApp(config, overrides);
    },
  };
});

vi.mock(import("../../src/telemetry/logger.js"), async (importOriginal) => {
  const logger = await importOriginal();
  const { scan } = await import("./scan-state.js");
  const { teeDestination } = await import("./telemetry-taps.js");
  return {
    ...logger,
    createLogger: (opts) =>
      logger.createLogger({
        ...opts,
        destination: teeDestination((kind, text) => scan.ledger.output(kind, text), opts.destination),
      }),
  };
});

// sdk-trace-node loads sdk-trace-base by itself (outside vitest), so either being loaded taps spans.
vi.mock(import("@opentelemetry/sdk-trace-base"), async (importOriginal) =>
  tappingSpans(await importOriginal(), "BasicTracerProvider"),
);
vi.mock(import("@opentelemetry/sdk-trace-node"), async (importOriginal) =>
  tappingSpans(await importOriginal(), "NodeTracerProvider"),
);

async function tappingSpans<M extends object>(sdk: M, provider: keyof M): Promise<M> {
  const { scan } = await import("./scan-state.js");
  const { tapSpans } = await import("./telemetry-taps.js");
  tapSpans(sdk[provider] as never, (kind, text) => scan.ledger.output(kind, text));
  return sdk;
}

vi.mock(import("prom-client"), async (importOriginal) => {
  const promClient = await importOriginal();
  const { scan } = await import("./scan-state.js");
  const { tapRegistries } = await import("./telemetry-taps.js");
  scan.registries = tapRegistries(promClient, (kind, text) => scan.ledger.output(kind, text));
  return promClient;
});

// Values every in-process test app is configured with (tests/support/test-app.ts TEST_ENV).
scan.ledger.secret("test-app-secret-value", "the test app secret");
scan.ledger.secret(Buffer.alloc(32, 7).toString("base64"), "the test encryption key");

installEgressGuard((egress) => scan.egress.push(egress));

afterAll(async () => {
  scan.ledger.output("metrics", await sweepRegistries(scan.registries));
  if (process.env.LARK_AUTH_SCAN_STATS) console.log("secret scan:", JSON.stringify(scan.ledger.stats()));
  const problems: string[] = [];
  if (scan.egress.length > 0)
    problems.push(
      `this test file tried to reach the network beyond this machine: ${scan.egress.map((e) => `${e.host}:${e.port}`).join(", ")}`,
    );
  if (scan.ledger.leaks().length > 0) problems.push(describeLeaks(scan.ledger.leaks()));
  if (problems.length > 0) throw new Error(problems.join("\n"));
});
