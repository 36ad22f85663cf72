import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config/index.js";

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
    expect(c.dataDir).toBe("./.data");
    expect(c.publicUrl).toBe("http://localhost:8080");
    expect(c.options).toEqual({
      sessionTtlSeconds: 600,
      rateLimitPerUserPerMinute: 5,
      tokenRefreshThreshold: 0.8,
    });
  });

  it("configures one app from the environment, choosing the flow from the public URL", () => {
    const base = { LARK_APP_ID: "cli_0123456789abcdef", LARK_APP_SECRET: "s" };
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
    expect(problemsOf({ LARK_APP_ID: "cli_0123456789abcdef" })).toEqual([
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
    const dir = mkdtempSync(join(tmpdir(), "lark-auth-config-"));
    const file = join(dir, "config.json");
    writeFileSync(
      file,
      JSON.stringify({
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
      }),
    );
    const c = parseConfig({ LARK_AUTH_CONFIG: file, MY_APP_SECRET: "from-env" });
    expect(c.apps[0]).toMatchObject({ appSecret: "from-env", domain: "lark", flow: "redirect" });
    expect(c.callerKeys[0]?.permissions.get("cli_0123456789abcdef")?.has("token:read")).toBe(true);
    expect(c.options.sessionTtlSeconds).toBe(300);
    expect(c.options.rateLimitPerUserPerMinute).toBe(5);
    expect(problemsOf({ LARK_AUTH_CONFIG: file })).toEqual([
      "MY_APP_SECRET: not set (app_secret_env of cli_0123456789abcdef)",
    ]);
    writeFileSync(
      file,
      JSON.stringify({ apps: [{ app_id: "cli_0123456789abcdef", app_secret: "inline!" }] }),
    );
    expect(problemsOf({ LARK_AUTH_CONFIG: file }).join("\n")).toMatch(/app_secret/);
  });

  it("never echoes a malformed caller-key entry, which may be a pasted raw key", () => {
    const rawKey = "lak_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA";
    const problems = problemsOf({ LARK_AUTH_CALLER_KEYS: `ok=${"b".repeat(64)},${rawKey}` });
    expect(problems).toEqual(["LARK_AUTH_CALLER_KEYS: entry 2 must be name=<sha256 hex of the key>"]);
    expect(problems.join("\n")).not.toContain(rawKey);
  });

  it("refuses an app listed twice in the config file", () => {
    const dir = mkdtempSync(join(tmpdir(), "lark-auth-config-"));
    const file = join(dir, "config.json");
    const app = { app_id: "cli_0123456789abcdef", app_secret_env: "MY_APP_SECRET" };
    writeFileSync(file, JSON.stringify({ apps: [app, { ...app, name: "again" }] }));
    expect(problemsOf({ LARK_AUTH_CONFIG: file, MY_APP_SECRET: "s" })).toEqual([
      "LARK_AUTH_CONFIG: app cli_0123456789abcdef is listed twice",
    ]);
  });
});
