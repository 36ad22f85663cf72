import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig, SANDBOX_APP_ID } from "../../src/config/index.js";
import { envSchema } from "../../src/config/schema.js";
import { composeEnvironment } from "../support/compose.js";
import { REPO_ROOT } from "../support/service-process.js";

const KEY_BYTES = randomBytes(32);
/** A valid LARK_AUTH_ENCRYPTION_KEYS value, required by every non-sandbox config. */
const KEYS = `k1=${KEY_BYTES.toString("base64")}`;
const APP = { LARK_APP_ID: "cli_0123456789abcdef", LARK_APP_SECRET: "s", LARK_AUTH_ENCRYPTION_KEYS: KEYS };

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Writes `content` as JSON to a config file in a temp dir removed after the run. */
function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "lark-auth-config-"));
  tempDirs.push(dir);
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(content));
  return file;
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe("configuration", () => {
  it("defaults to sandbox mode on the embedded database when no app is configured", () => {
    const c = parseConfig({});
    expect(c.sandbox.enabled).toBe(true);
    expect(c.grpcPort).toBe(50051);
    expect(c.httpPort).toBe(8080);
    expect(c.databaseUrl).toBeUndefined();
    // Absolute, whatever the working directory: the embedded database's socket path is built from it.
    expect(c.dataDir).toBe(resolve("./.data"));
    expect(c.dataDir.startsWith("/")).toBe(true);
    // Sandbox prints an all-powerful dev key: it stays on this machine unless told otherwise.
    expect(c.bindHost).toBe("127.0.0.1");
    expect(c.publicUrl).toBe("http://localhost:8080");
    expect(c.options).toEqual({
      sessionTtlSeconds: 600,
      rateLimitPerUserPerMinute: 5,
      tokenRefreshThreshold: 0.8,
      retentionDays: 7,
      eventRetentionHours: 24,
      larkLimitHeadroom: 0.9,
      larkRateLimitPerSecond: 50,
      larkRateLimitPerMinute: 1000,
      devicePollShare: 0.3,
      reauthorizationMarginMs: 12 * 3_600_000,
      larkCalls: {
        httpTimeoutMs: 10_000,
        maxAttempts: 3,
        baseDelayMs: 200,
        maxDelayMs: 5_000,
        failureThreshold: 5,
        cooldownMs: 30_000,
      },
      larkEvents: {
        maxReconnectAttempts: 10,
        reconnectBaseDelayMs: 1_000,
        reconnectMaxDelayMs: 60_000,
        heartbeatIntervalMs: 1_000,
        pongTimeoutSeconds: 10,
        fallbackToWebhook: false,
        webhookMaxSkewSeconds: 300,
        dedupHours: 24,
      },
    });
  });

  it("configures one app from the environment, choosing the flow from the public URL", () => {
    const base = APP;
    expect(parseConfig(base).apps[0]).toMatchObject({
      appId: "cli_0123456789abcdef",
      domain: "feishu",
      flow: "device",
    });
    expect(parseConfig(base).sandbox.enabled).toBe(false);
    const withUrl = parseConfig({ ...base, LARK_AUTH_PUBLIC_URL: "https://auth.example.com/" });
    expect(withUrl.apps[0]?.flow).toBe("redirect");
    expect(withUrl.publicUrl).toBe("https://auth.example.com");
    expect(
      parseConfig({ ...base, LARK_AUTH_FLOW: "device", LARK_AUTH_PUBLIC_URL: "https://a.example" }).apps[0]
        ?.flow,
    ).toBe("device");
  });

  it("names every wrong setting in one line each", () => {
    const problems = problemsOf({
      LARK_AUTH_GRPC_PORT: "99999",
      LARK_APP_ID: "nope",
      LARK_AUTH_FLOW: "magic",
    });
    expect(problems.some((p) => p.startsWith("LARK_AUTH_GRPC_PORT"))).toBe(true);
    expect(problems.some((p) => p.startsWith("LARK_APP_ID"))).toBe(true);
    expect(problems.some((p) => p.startsWith("LARK_AUTH_FLOW"))).toBe(true);
    expect(problemsOf({ LARK_APP_ID: "cli_0123456789abcdef", LARK_AUTH_ENCRYPTION_KEYS: KEYS })).toEqual([
      "LARK_APP_SECRET: required when LARK_APP_ID is set",
    ]);
    expect(problemsOf({ LARK_AUTH_CALLER_KEYS: "svc=abc" })[0]).toMatch(/^LARK_AUTH_CALLER_KEYS/);
    expect(problemsOf({ LARK_AUTH_SANDBOX: "0" })[0]).toMatch(/^LARK_AUTH_SANDBOX/);
    expect(problemsOf({ LARK_DOMAIN: "feishu.cn" })).toEqual([
      "LARK_DOMAIN: must be feishu, lark, or an http(s) base URL",
    ]);
    expect(problemsOf({ LARK_AUTH_PUBLIC_URL: "ftp://x" })).toEqual([
      "LARK_AUTH_PUBLIC_URL: must be an http(s) URL",
    ]);
    expect(parseConfig({ LARK_DOMAIN: "http://127.0.0.1:8090" }).sandbox.enabled).toBe(true);
  });

  it("reads apps, caller keys with per-app permissions and options from a config file; secrets by env reference", () => {
    const file = configFile({
      apps: [
        {
          app_id: "cli_0123456789abcdef",
          app_secret_env: "MY_APP_SECRET",
          flow: "redirect",
          domain: "lark",
        },
      ],
      caller_keys: [
        {
          name: "docs-bot",
          key_sha256: "a".repeat(64),
          permissions: { cli_0123456789abcdef: ["token:read"] },
        },
      ],
      options: { session_ttl_seconds: 300 },
    });
    const env = { LARK_AUTH_CONFIG: file, LARK_AUTH_ENCRYPTION_KEYS: KEYS };
    const c = parseConfig({ ...env, MY_APP_SECRET: "from-env" });
    expect(c.apps[0]).toMatchObject({ appSecret: "from-env", domain: "lark", flow: "redirect" });
    expect(c.callerKeys[0]?.permissions.get("cli_0123456789abcdef")?.has("token:read")).toBe(true);
    expect(c.options.sessionTtlSeconds).toBe(300);
    expect(c.options.rateLimitPerUserPerMinute).toBe(5);
    expect(problemsOf(env)).toEqual(["MY_APP_SECRET: not set (app_secret_env of cli_0123456789abcdef)"]);
    writeFileSync(
      file,
      JSON.stringify({ apps: [{ app_id: "cli_0123456789abcdef", app_secret: "inline!" }] }),
    );
    const inline = problemsOf({ LARK_AUTH_CONFIG: file, LARK_AUTH_ENCRYPTION_KEYS: KEYS });
    // The file's problems only, not also "no app configured".
    expect(inline.every((p) => p.startsWith(`LARK_AUTH_CONFIG ${file}: apps.0`))).toBe(true);
    expect(inline.join("\n")).toMatch(/app_secret/);
  });

  it("reads an app's card template id from the config file, and refuses one that is not an id", () => {
    const app = { app_id: "cli_0123456789abcdef", app_secret_env: "MY_APP_SECRET" };
    const env = { MY_APP_SECRET: "s", LARK_AUTH_ENCRYPTION_KEYS: KEYS };
    const file = configFile({ apps: [{ ...app, card_template_id: "ctp_AAm1Xy2Zq3_-" }] });
    expect(parseConfig({ ...env, LARK_AUTH_CONFIG: file }).apps[0]?.cardTemplateId).toBe("ctp_AAm1Xy2Zq3_-");
    expect(parseConfig({ ...env, LARK_AUTH_CONFIG: configFile({ apps: [app] }) }).apps[0]).not.toHaveProperty(
      "cardTemplateId",
    );
    const bad = configFile({ apps: [{ ...app, card_template_id: "ctp x" }] });
    expect(problemsOf({ ...env, LARK_AUTH_CONFIG: bad })).toEqual([
      `LARK_AUTH_CONFIG ${bad}: apps.0.card_template_id: must be a card template id (letters, digits, _ and -)`,
    ]);
  });

  it("reads the re-authorization nudge per app and the user-info sync schedule, refusing a bad schedule", () => {
    const app = { app_id: "cli_0123456789abcdef", app_secret_env: "MY_APP_SECRET" };
    const env = { MY_APP_SECRET: "s", LARK_AUTH_ENCRYPTION_KEYS: KEYS };
    const file = configFile({
      apps: [{ ...app, reauthorization_nudge: true }],
      options: { user_info_sync_cron: "0 3 * * *", reauthorization_nudge_margin_hours: 6 },
    });
    const c = parseConfig({ ...env, LARK_AUTH_CONFIG: file });
    expect(c.apps[0]?.reauthorizationNudge).toBe(true);
    expect(c.options).toMatchObject({
      userInfoSyncCron: "0 3 * * *",
      reauthorizationMarginMs: 6 * 3_600_000,
    });
    const plain = parseConfig({ ...env, LARK_AUTH_CONFIG: configFile({ apps: [app] }) });
    expect(plain.apps[0]).not.toHaveProperty("reauthorizationNudge");
    expect(plain.options).not.toHaveProperty("userInfoSyncCron");
    const bad = configFile({ apps: [app], options: { user_info_sync_cron: "0 25 * * *" } });
    expect(problemsOf({ ...env, LARK_AUTH_CONFIG: bad })).toEqual([
      `LARK_AUTH_CONFIG ${bad}: options.user_info_sync_cron: not a cron expression: hour: "25" is not in 0-23`,
    ]);
  });

  it("never echoes a malformed caller-key entry, which may be a pasted raw key", () => {
    const rawKey = "lak_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA";
    const problems = problemsOf({ LARK_AUTH_CALLER_KEYS: `ok=${"b".repeat(64)},${rawKey}` });
    expect(problems).toEqual(["LARK_AUTH_CALLER_KEYS: entry 2 must be name=<sha256 hex of the key>"]);
    expect(problems.join("\n")).not.toContain(rawKey);
  });

  it("refuses an app listed twice in the config file", () => {
    const app = { app_id: "cli_0123456789abcdef", app_secret_env: "MY_APP_SECRET" };
    const file = configFile({ apps: [app, { ...app, name: "again" }] });
    expect(
      problemsOf({ LARK_AUTH_CONFIG: file, MY_APP_SECRET: "s", LARK_AUTH_ENCRYPTION_KEYS: KEYS }),
    ).toEqual(["LARK_AUTH_CONFIG: app cli_0123456789abcdef is listed twice"]);
  });

  describe("sandbox mode never switches itself on in a deployment", () => {
    const NO_APP_LINE =
      /^LARK_APP_ID: no Lark app is configured: set LARK_APP_ID and LARK_APP_SECRET, or LARK_AUTH_CONFIG .*LARK_AUTH_SANDBOX=1/;

    it("is a start-up error, naming how to configure an app, when anything is configured but no app", () => {
      const pg = { DATABASE_URL: "postgres://u:p@db:5432/lark", LARK_AUTH_ENCRYPTION_KEYS: KEYS };
      const withDb = problemsOf(pg);
      expect(withDb).toHaveLength(1);
      expect(withDb[0]).toMatch(NO_APP_LINE);
      const emptyFile = configFile({ options: { session_ttl_seconds: 300 } });
      const withFile = problemsOf({ LARK_AUTH_CONFIG: emptyFile, LARK_AUTH_ENCRYPTION_KEYS: KEYS });
      expect(withFile).toHaveLength(1);
      expect(withFile[0]).toMatch(NO_APP_LINE);
      // Half an app is not "nothing configured" either: both the missing half and the key are named.
      const halfApp = problemsOf({ LARK_APP_SECRET: "s" });
      expect(halfApp.some((p) => p.startsWith("LARK_APP_ID: required"))).toBe(true);
      expect(halfApp.some((p) => p.startsWith("LARK_AUTH_ENCRYPTION_KEYS"))).toBe(true);
    });

    it("starts only when asked for explicitly once something is configured", () => {
      const c = parseConfig({ DATABASE_URL: "postgres://u:p@db:5432/lark", LARK_AUTH_SANDBOX: "1" });
      expect(c.sandbox.enabled).toBe(true);
      expect(c.databaseUrl).toBe("postgres://u:p@db:5432/lark");
      expect(parseConfig({ LARK_AUTH_DATA_DIR: "/tmp/x" }).sandbox.enabled).toBe(true);
    });

    it("binds its emulator to loopback unless told otherwise", () => {
      expect(parseConfig({}).sandbox.emulatorHost).toBe("127.0.0.1");
      expect(parseConfig({ LARK_AUTH_BIND_HOST: "0.0.0.0" }).sandbox.emulatorHost).toBe("127.0.0.1");
      expect(parseConfig({ LARK_AUTH_EMULATOR_HOST: "0.0.0.0" }).sandbox.emulatorHost).toBe("0.0.0.0");
    });
  });

  describe("strictness", () => {
    it("treats an empty variable as unset, never as 0 or false", () => {
      const empty = Object.fromEntries(Object.keys(envSchema.shape).map((k) => [k, ""]));
      const c = parseConfig(empty);
      expect(c).toEqual(parseConfig({}));
      expect(c.grpcPort).toBe(50051);
      expect(c.shutdownGraceMs).toBe(10_000);
      expect(c.migrateOnStart).toBe(true);
      expect(parseConfig({ ...APP, LARK_AUTH_GRPC_PORT: "", LARK_AUTH_SANDBOX: "" }).grpcPort).toBe(50051);
    });

    it("reads numbers as decimal integers in range, refusing anything else in one line", () => {
      expect(parseConfig({ LARK_AUTH_GRPC_PORT: "0" }).grpcPort).toBe(0);
      expect(parseConfig({ LARK_AUTH_GRPC_PORT: "65535" }).grpcPort).toBe(65535);
      for (const bad of [
        "0x50",
        "1e3",
        " 80",
        "80 ",
        "8080.0",
        "-1",
        "65536",
        "+80",
        "١٢",
        "99999999999999999999",
      ]) {
        expect(problemsOf({ LARK_AUTH_GRPC_PORT: bad }), bad).toEqual([
          "LARK_AUTH_GRPC_PORT: must be a decimal integer from 0 to 65535",
        ]);
      }
      expect(problemsOf({ LARK_AUTH_SHUTDOWN_GRACE_MS: "1e3" })).toEqual([
        "LARK_AUTH_SHUTDOWN_GRACE_MS: must be a decimal integer from 0 to 600000",
      ]);
      expect(parseConfig({ LARK_AUTH_SHUTDOWN_GRACE_MS: "2500" }).shutdownGraceMs).toBe(2500);
    });

    it("refuses caller-key permissions on an app that is not configured (* and the sandbox app are fine)", () => {
      const file = configFile({
        apps: [{ app_id: "cli_0123456789abcdef", app_secret_env: "MY_APP_SECRET" }],
        caller_keys: [
          { name: "ok", key_sha256: "a".repeat(64), permissions: { cli_0123456789abcdef: ["auth:read"] } },
          { name: "all", key_sha256: "b".repeat(64), permissions: { "*": ["auth:read"] } },
          { name: "typo", key_sha256: "c".repeat(64), permissions: { cli_0123456789abcdee: ["auth:read"] } },
        ],
      });
      expect(
        problemsOf({ LARK_AUTH_CONFIG: file, MY_APP_SECRET: "s", LARK_AUTH_ENCRYPTION_KEYS: KEYS }),
      ).toEqual([
        `LARK_AUTH_CONFIG ${file}: caller key typo names app cli_0123456789abcdee, which is not configured (or use *)`,
      ]);
      const sandboxFile = configFile({
        caller_keys: [
          { name: "dev", key_sha256: "d".repeat(64), permissions: { [SANDBOX_APP_ID]: ["auth:read"] } },
        ],
      });
      expect(parseConfig({ LARK_AUTH_CONFIG: sandboxFile, LARK_AUTH_SANDBOX: "1" }).callerKeys).toHaveLength(
        1,
      );
    });

    it("refuses two caller keys with the same hash, in one source or across both", () => {
      const hash = "e".repeat(64);
      expect(problemsOf({ ...APP, LARK_AUTH_CALLER_KEYS: `a=${hash},b=${hash.toUpperCase()}` })).toEqual([
        "LARK_AUTH_CALLER_KEYS: caller key b has the same key hash as a",
      ]);
      const file = configFile({
        apps: [{ app_id: "cli_0123456789abcdef", app_secret_env: "MY_APP_SECRET" }],
        caller_keys: [{ name: "f", key_sha256: hash, permissions: { "*": ["auth:read"] } }],
      });
      const env = { LARK_AUTH_CONFIG: file, MY_APP_SECRET: "s", LARK_AUTH_ENCRYPTION_KEYS: KEYS };
      expect(problemsOf({ ...env, LARK_AUTH_CALLER_KEYS: `e=${hash}` })).toEqual([
        "LARK_AUTH_CALLER_KEYS: caller key e has the same key hash as f",
      ]);
    });
  });

  describe("encryption keys (LARK_AUTH_ENCRYPTION_KEYS)", () => {
    it("parses key_id=<base64 of 32 bytes>, first seals, in order", () => {
      const second = randomBytes(32);
      const c = parseConfig({
        ...APP,
        LARK_AUTH_ENCRYPTION_KEYS: ` ${KEYS} , old_2=${second.toString("base64url")}`,
      });
      expect(c.encryptionKeys.map((k) => k.id)).toEqual(["k1", "old_2"]);
      expect(c.encryptionKeys[0]?.key.equals(KEY_BYTES)).toBe(true);
      expect(c.encryptionKeys[1]?.key.equals(second)).toBe(true);
    });

    it("is required outside sandbox mode, with one line saying how to make one", () => {
      const { LARK_AUTH_ENCRYPTION_KEYS: _, ...noKeys } = APP;
      const problems = problemsOf(noKeys);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^LARK_AUTH_ENCRYPTION_KEYS: required outside sandbox mode/);
      expect(problems[0]).toContain("randomBytes(32).toString('base64')");
      expect(parseConfig({}).encryptionKeys).toEqual([]);
    });

    it("refuses bad ids, wrong lengths and duplicate ids without printing key material", () => {
      const short = randomBytes(31).toString("base64");
      const long = randomBytes(33).toString("base64");
      const good = KEY_BYTES.toString("base64");
      const spec = [
        `bad id=${good}`,
        `a=${short}`,
        `b=${long}`,
        `c=${good}!`,
        good,
        `${"x".repeat(33)}=${good}`,
        KEYS,
        KEYS,
      ];
      const problems = problemsOf({ ...APP, LARK_AUTH_ENCRYPTION_KEYS: spec.join(",") });
      expect(problems).toEqual([
        "LARK_AUTH_ENCRYPTION_KEYS: entry 1 must be key_id=<base64 of 32 random bytes>, key_id 1-32 of A-Z a-z 0-9 _ -",
        "LARK_AUTH_ENCRYPTION_KEYS: key a must be the base64 of exactly 32 bytes",
        "LARK_AUTH_ENCRYPTION_KEYS: key b must be the base64 of exactly 32 bytes",
        "LARK_AUTH_ENCRYPTION_KEYS: key c must be the base64 of exactly 32 bytes",
        "LARK_AUTH_ENCRYPTION_KEYS: entry 5 must be key_id=<base64 of 32 random bytes>, key_id 1-32 of A-Z a-z 0-9 _ -",
        "LARK_AUTH_ENCRYPTION_KEYS: entry 6 must be key_id=<base64 of 32 random bytes>, key_id 1-32 of A-Z a-z 0-9 _ -",
        "LARK_AUTH_ENCRYPTION_KEYS: key id k1 is listed twice",
      ]);
      const printed = problems.join("\n");
      for (const material of [short, long, good]) expect(printed).not.toContain(material.slice(0, 12));
    });
  });

  describe("docker-compose.yml (the documented `docker compose up`)", () => {
    const compose = join(REPO_ROOT, "docker-compose.yml");

    it("passes a configuration the service accepts: sandbox on PostgreSQL, emulator reachable", () => {
      const env = composeEnvironment(compose, "lark-auth");
      expect(Object.values(env)).toContain(""); // Unset host variables arrive as "": the case being tested.
      const c = parseConfig(env);
      expect(c.sandbox.enabled).toBe(true);
      expect(c.databaseUrl).toMatch(/^postgres:\/\/\S+@postgres:5432\//);
      expect(c.sandbox.emulatorHost).toBe("0.0.0.0"); // Inside the container, for the published port.
      expect(c.dataDir).toBe("/var/lib/lark-auth");
      expect(c.sandbox.devCallerKey).toBeUndefined(); // Generated once and kept in the data dir.
      expect(c.encryptionKeys).toEqual([]);
    });

    it("runs a real app when the documented variables are set", () => {
      const host = {
        LARK_AUTH_SANDBOX: "0",
        LARK_APP_ID: "cli_0123456789abcdef",
        LARK_APP_SECRET: "s",
        LARK_AUTH_ENCRYPTION_KEYS: KEYS,
      };
      const c = parseConfig(composeEnvironment(compose, "lark-auth", host));
      expect(c.sandbox.enabled).toBe(false);
      expect(c.apps.map((a) => a.appId)).toEqual(["cli_0123456789abcdef"]);
      expect(c.encryptionKeys.map((k) => k.id)).toEqual(["k1"]);
    });
  });

  describe("the example files", () => {
    it(".env.example as shipped starts the sandbox and documents every variable", () => {
      const text = readFileSync(join(REPO_ROOT, ".env.example"), "utf8");
      const env = Object.fromEntries(
        text
          .split("\n")
          .filter((l) => /^[A-Z_]+=/.test(l))
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
      expect(parseConfig(env).sandbox.enabled).toBe(true);
      for (const name of Object.keys(envSchema.shape)) expect(text, name).toContain(name);
    });

    it("config.example.json is a valid config file", () => {
      const file = join(REPO_ROOT, "config.example.json");
      const c = parseConfig({
        LARK_AUTH_CONFIG: file,
        DOCS_APP_SECRET: "s",
        LARK_AUTH_ENCRYPTION_KEYS: KEYS,
      });
      expect(c.apps.map((a) => a.appId)).toEqual(["cli_0123456789abcdef"]);
      expect(c.callerKeys.map((k) => k.name)).toEqual(["docs-bot", "audit-watcher"]);
    });
  });
});
