import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { SANDBOX_APP_ID } from "../../src/sandbox.js";
import { syncApps } from "../../src/store/apps.js";
import { openDatabase } from "../../src/store/database.js";
import { createSessionStore } from "../../src/store/session-store.js";
import { buildSession } from "../support/factories.js";
import { healthClient } from "../support/grpc-health.js";
import { freePorts } from "../support/net.js";
import {
  PROJECT_NODE,
  REPO_ROOT,
  type ServiceProcess,
  type SpawnOptions,
  spawnService,
} from "../support/service-process.js";

const FIXED_KEY = "lak_e2e_fixed_dev_caller_key_0000000001";
const SEEDED = buildSession({ appId: SANDBOX_APP_ID, context: "resume-here" });
/** Reports (on stderr) every sandbox or emulator module the process resolves. */
const LOAD_PROBE =
  "data:text/javascript," +
  encodeURIComponent(`import { registerHooks } from "node:module";
registerHooks({ resolve(specifier, context, next) {
  const resolved = next(specifier, context);
  if (/\\/src\\/(sandbox|emulator)/.test(resolved.url)) process.stderr.write("module loaded: " + resolved.url + "\\n");
  return resolved;
} });`);
const PROBE = { nodeArgs: ["--import", LOAD_PROBE] };

/** The system's own Node when it is older than the project needs (Debian's 20), else undefined. */
function oldSystemNode(): string | undefined {
  if (!existsSync("/usr/bin/node")) return undefined;
  const version = execFileSync("/usr/bin/node", ["--version"], { encoding: "utf8" }).trim().slice(1);
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major * 100 + minor < 2217 ? "/usr/bin/node" : undefined;
}

/** An IPv4 address of this machine other than loopback, to try what listens beyond 127.0.0.1. */
function externalAddress(): string | undefined {
  const all = Object.values(networkInterfaces()).flat();
  return all.find((a) => a && a.family === "IPv4" && !a.internal)?.address;
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** A running sandbox process: its ports and what its banner announced. */
interface Running {
  readonly proc: ServiceProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly emulatorPort: number;
  readonly key: string;
}

function authClient(grpcPort: number, key: string) {
  const transport = createGrpcTransport({
    baseUrl: `http://127.0.0.1:${grpcPort}`,
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${key}`);
        return next(req);
      },
    ],
  });
  return createClient(AuthService, transport);
}

/** ListAuthSessions as curl would send it: Connect JSON over HTTP/1.1 with plain fetch. */
function listOverConnectJson(httpPort: number, key?: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${httpPort}/lark.auth.v1.AuthService/ListAuthSessions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ appId: SANDBOX_APP_ID }),
  });
}

describe("the service as a real process (node --import tsx src/main.ts), sandbox mode", () => {
  let dataDir: string;
  /** What the first start generated and kept, for the restart to reuse. */
  let firstKey = "";
  let firstSealingKey = "";
  const started: ServiceProcess[] = [];

  /** Starts the process on fresh free ports with no Lark app configured, and waits until it listens. */
  async function start(extra: Record<string, string> = {}, opts: SpawnOptions = {}): Promise<Running> {
    const [grpcPort, httpPort, emulatorPort] = (await freePorts(3)) as [number, number, number];
    const proc = spawnService(
      {
        LARK_AUTH_DATA_DIR: dataDir,
        LARK_AUTH_GRPC_PORT: String(grpcPort),
        LARK_AUTH_HTTP_PORT: String(httpPort),
        LARK_AUTH_EMULATOR_PORT: String(emulatorPort),
        LARK_AUTH_BIND_HOST: "127.0.0.1",
        ...extra,
      },
      opts,
    );
    started.push(proc);
    await proc.waitForOutput(/"msg":"lark-auth-service listening"/, 40_000);
    const key = (await proc.waitForOutput(/^Dev caller key:\s+(\S+)$/m))[1] ?? "";
    return { proc, grpcPort, httpPort, emulatorPort, key };
  }

  /** SIGTERM: exits 0 promptly, having logged "stopped". */
  async function stopCleanly(r: Running): Promise<void> {
    const exit = await r.proc.stop("SIGTERM", 15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(r.proc.logRecords().some((rec) => rec.msg === "stopped")).toBe(true);
  }

  /** The dev key appears in the banner and nowhere else; the app secret nowhere at all. */
  function assertNoLeaks(r: Running, appSecret: string): void {
    const out = r.proc.stdout();
    const err = r.proc.stderr();
    const records = r.proc.logRecords();
    expect(records.length).toBeGreaterThan(3);
    for (const line of out.split("\n").filter((l) => l.startsWith("{"))) expect(line).not.toContain(r.key);
    expect(out.split(r.key)).toHaveLength(2); // Exactly once: the banner line.
    expect(err).not.toContain(r.key);
    expect(appSecret.length).toBeGreaterThan(8);
    expect(out).not.toContain(appSecret);
    expect(err).not.toContain(appSecret);
  }

  beforeAll(async () => {
    // The project's pinned Node, not the system one (which may be too old for the service).
    const [major = 0, minor = 0] = execFileSync(PROJECT_NODE, ["--version"], { encoding: "utf8" })
      .trim()
      .slice(1)
      .split(".")
      .map(Number);
    expect(major * 100 + minor).toBeGreaterThanOrEqual(2217);
    dataDir = await mkdtemp(join(tmpdir(), "lark-auth-e2e-"));
    // Seed through the store, then let go: the embedded data dir belongs to one process at a time.
    const db = await openDatabase({ dataDir });
    try {
      await syncApps(db, [{ appId: SANDBOX_APP_ID, name: "Sandbox App", domain: "seed", flow: "redirect" }]);
      await createSessionStore(db).insert(SEEDED);
    } finally {
      await db.close();
    }
  });

  afterAll(async () => {
    for (const p of started) p.kill();
    await Promise.all(started.map((p) => p.exited));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("starts, announces the sandbox, serves health and authenticated RPCs on both ports, stops on SIGTERM", async () => {
    const r = await start({}, PROBE);
    const out = r.proc.stdout();
    expect(out).toContain(`Lark emulator:       http://127.0.0.1:${r.emulatorPort}`);
    expect(out).toContain("listening on 127.0.0.1 only (LARK_AUTH_EMULATOR_HOST changes it)");
    expect(r.proc.stderr()).toContain("/src/sandbox.ts"); // The probe sees what it must not see in production.

    // Generated once and kept in the data dir, readable by the owner only.
    const keyFile = join(dataDir, "sandbox-dev-caller-key");
    const sealingFile = join(dataDir, "sandbox-encryption-key");
    expect(out).toContain(`generated and kept in ${keyFile}, reused on every start`);
    expect(out).toMatch(new RegExp(`^Encryption key:\\s+generated and kept in ${sealingFile}`, "m"));
    expect((await readFile(keyFile, "utf8")).trim()).toBe(r.key);
    expect(await modeOf(keyFile)).toBe(0o600);
    expect(await modeOf(sealingFile)).toBe(0o600);
    firstKey = r.key;
    firstSealingKey = await readFile(sealingFile, "utf8");
    expect(firstSealingKey).toMatch(/^sandbox=[A-Za-z0-9+/]{43}=\n$/);
    expect(out).not.toContain(firstSealingKey.trim().slice("sandbox=".length));
    const demoUsers = [...out.matchAll(/^Demo user:\s+(.+) <(\S+@\S+)> open_id=(ou_\w+)$/gm)];
    expect(demoUsers.length).toBeGreaterThanOrEqual(2);
    expect(r.key).toMatch(/^lak_[A-Za-z0-9_-]{40,}$/);

    expect((await fetch(`http://127.0.0.1:${r.httpPort}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${r.httpPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ database: "ok", migrations: "ok" });

    const health = healthClient(`127.0.0.1:${r.grpcPort}`);
    try {
      expect(await health.check()).toBe("SERVING");
      expect(await health.check(AuthService.typeName)).toBe("SERVING");
    } finally {
      health.close();
    }

    // gRPC on the h2c port with the generated stubs and the printed key; the seeded row is there.
    const auth = authClient(r.grpcPort, r.key);
    const listed = await auth.listAuthSessions({ appId: SANDBOX_APP_ID });
    expect(listed.sessions.map((s) => s.sessionId)).toContain(SEEDED.id);

    // Connect JSON on the HTTP port, as plain fetch (or curl) sends it.
    const res = await listOverConnectJson(r.httpPort, r.key);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = (await res.json()) as { sessions?: { sessionId: string; context?: string }[] };
    expect(body.sessions?.find((s) => s.sessionId === SEEDED.id)?.context).toBe("resume-here");
    const anonymous = await listOverConnectJson(r.httpPort);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: "unauthenticated" });

    const apps = (await (await fetch(`http://127.0.0.1:${r.emulatorPort}/_emulator/apps`)).json()) as {
      apps: { app_id: string; app_secret: string }[];
    };
    const appSecret = apps.apps.find((a) => a.app_id === SANDBOX_APP_ID)?.app_secret ?? "";

    await stopCleanly(r);
    assertNoLeaks(r, appSecret);
  }, 60_000);

  it("restarts on the same data dir with a fixed dev key: migrations already applied, data kept", async () => {
    const r = await start({ LARK_AUTH_DEV_CALLER_KEY: FIXED_KEY });
    expect(r.key).toBe(FIXED_KEY);
    expect(r.proc.stdout()).toContain("set by LARK_AUTH_DEV_CALLER_KEY");
    const ready = await fetch(`http://127.0.0.1:${r.httpPort}/readyz`);
    expect(await ready.json()).toMatchObject({ database: "ok", migrations: "ok" });

    const got = await authClient(r.grpcPort, FIXED_KEY).getAuthSession({ sessionId: SEEDED.id });
    expect(got.session?.sessionId).toBe(SEEDED.id);
    expect(got.session?.appId).toBe(SANDBOX_APP_ID);
    expect(got.session?.context).toBe("resume-here");

    // A key from an earlier run (or any other) is not accepted.
    const denied = await authClient(r.grpcPort, "lak_not_the_dev_key_000000000000000000")
      .getAuthSession({ sessionId: SEEDED.id })
      .then(
        () => undefined,
        (err: unknown) => ConnectError.from(err),
      );
    expect(denied?.code).toBe(Code.Unauthenticated);
    expect(denied?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("UNAUTHENTICATED");

    const apps = (await (await fetch(`http://127.0.0.1:${r.emulatorPort}/_emulator/apps`)).json()) as {
      apps: { app_id: string; app_secret: string }[];
    };
    const appSecret = apps.apps.find((a) => a.app_id === SANDBOX_APP_ID)?.app_secret ?? "";
    await stopCleanly(r);
    assertNoLeaks(r, appSecret);
  }, 60_000);

  it("reuses the kept dev caller key and sealing key after a restart; the emulator stays on loopback", async () => {
    expect(firstKey).not.toBe("");
    // The service binds every interface; the emulator, with its unauthenticated control API, does not.
    const r = await start({ LARK_AUTH_BIND_HOST: "0.0.0.0" });
    expect(r.key).toBe(firstKey);
    const out = r.proc.stdout();
    expect(out).toContain(`kept in ${join(dataDir, "sandbox-dev-caller-key")}, reused on every start`);
    expect(out).toMatch(/^Encryption key:\s+kept in \S+sandbox-encryption-key, reused/m);
    expect(await readFile(join(dataDir, "sandbox-encryption-key"), "utf8")).toBe(firstSealingKey);
    expect(
      (await authClient(r.grpcPort, firstKey).getAuthSession({ sessionId: SEEDED.id })).session,
    ).toBeDefined();

    const external = externalAddress();
    if (external) {
      expect((await fetch(`http://${external}:${r.httpPort}/healthz`)).status).toBe(200);
      const emulator = await fetch(`http://${external}:${r.emulatorPort}/_emulator/apps`).then(
        () => "answered",
        () => "refused",
      );
      expect(emulator).toBe("refused");
    }
    expect((await fetch(`http://127.0.0.1:${r.emulatorPort}/_emulator/apps`)).status).toBe(200);
    await stopCleanly(r);
  }, 60_000);

  it("names the variable that moves a port already in use", async () => {
    const { createServer } = await import("node:net");
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      for (const variable of ["LARK_AUTH_GRPC_PORT", "LARK_AUTH_HTTP_PORT"]) {
        const proc = spawnService({
          LARK_AUTH_DATA_DIR: dataDir,
          LARK_AUTH_GRPC_PORT: "0",
          LARK_AUTH_HTTP_PORT: "0",
          LARK_AUTH_EMULATOR_PORT: "0",
          LARK_AUTH_BIND_HOST: "127.0.0.1",
          [variable]: String(taken),
        });
        expect((await proc.exited).code).toBe(1);
        expect(proc.stderr()).toContain(`port ${taken} is already in use; set ${variable}`);
      }
    } finally {
      blocker.close();
    }
  });

  it("shuts down cleanly on a Ctrl-C delivered twice at once (the terminal's copy and npm's)", async () => {
    const r = await start();
    r.proc.child.kill("SIGINT");
    // Apart enough to be two signals (the kernel merges a pending duplicate), as npm's copy arrives.
    await new Promise((resolve) => setTimeout(resolve, 150));
    r.proc.child.kill("SIGINT");
    const exit = await Promise.race([
      r.proc.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 15 s")), 15_000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(r.proc.logRecords().some((rec) => rec.msg === "stopped")).toBe(true);
    // The data dir's lock went with the process, so the next start does not have to take it over.
    expect(existsSync(join(dataDir, "lark-auth.lock"))).toBe(false);
  }, 60_000);

  it("starts on a relative data dir, as the default ./.data is", async () => {
    const relDir = await mkdtemp(join(tmpdir(), "lark-auth-rel-"));
    try {
      // Relative to the process's working directory (the repo), like the default `./.data`.
      const r = await start({ LARK_AUTH_DATA_DIR: relative(REPO_ROOT, relDir) });
      const health = healthClient(`127.0.0.1:${r.grpcPort}`);
      expect(await health.check()).toBe("SERVING");
      health.close();
      await stopCleanly(r);
    } finally {
      await rm(relDir, { recursive: true, force: true });
    }
  });

  it("refuses to start when something is configured but no app: no sandbox by omission", async () => {
    const proc = spawnService({
      LARK_AUTH_DATA_DIR: dataDir,
      DATABASE_URL: "postgres://lark:secret-db-password@127.0.0.1:1/lark",
      LARK_AUTH_ENCRYPTION_KEYS: `k1=${Buffer.alloc(32, 1).toString("base64")}`,
      LARK_AUTH_BIND_HOST: "127.0.0.1",
    });
    started.push(proc);
    expect(await proc.exited).toEqual({ code: 1, signal: null });
    const lines = proc.stderr().split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^config error: LARK_APP_ID: no Lark app is configured/);
    expect(lines[0]).toContain("LARK_AUTH_CONFIG");
    expect(lines[0]).toContain("LARK_AUTH_SANDBOX=1");
    expect(proc.stdout()).toBe(""); // No banner, no emulator.
    expect(proc.stderr()).not.toContain("secret-db-password");
  }, 30_000);

  it("outside sandbox mode never loads the sandbox or the emulator", async () => {
    const ownDir = await mkdtemp(join(tmpdir(), "lark-auth-e2e-app-"));
    try {
      const [grpcPort, httpPort] = (await freePorts(2)) as [number, number];
      const proc = spawnService(
        {
          LARK_AUTH_DATA_DIR: ownDir,
          LARK_AUTH_GRPC_PORT: String(grpcPort),
          LARK_AUTH_HTTP_PORT: String(httpPort),
          LARK_AUTH_BIND_HOST: "127.0.0.1",
          LARK_APP_ID: "cli_0123456789abcdef",
          LARK_APP_SECRET: "e2e-app-secret-value",
          LARK_DOMAIN: "http://127.0.0.1:9",
          LARK_AUTH_ENCRYPTION_KEYS: `k1=${Buffer.alloc(32, 2).toString("base64")}`,
        },
        PROBE,
      );
      started.push(proc);
      await proc.waitForOutput(/"msg":"lark-auth-service listening"/, 40_000);
      expect(proc.stdout()).not.toContain("SANDBOX");
      expect(await proc.stop("SIGTERM")).toEqual({ code: 0, signal: null });
      expect(proc.stderr()).not.toContain("module loaded");
    } finally {
      await rm(ownDir, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(oldSystemNode() === undefined)(
    "on an old Node, says which Node it needs in one line instead of a cryptic import error",
    async () => {
      const proc = spawnService({ LARK_AUTH_DATA_DIR: dataDir }, { node: oldSystemNode() });
      started.push(proc);
      expect(await proc.exited).toEqual({ code: 1, signal: null });
      const lines = proc.stderr().split("\n").filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^lark-auth-service needs Node >= 22\.17, but this is Node \d+\./);
      expect(proc.stdout()).toBe("");
    },
    30_000,
  );

  it("refuses a bad configuration: exit 1 and one clear line naming each bad setting", async () => {
    const appSecret = "e2e-app-secret-must-never-print";
    const proc = spawnService({
      LARK_AUTH_DATA_DIR: dataDir,
      LARK_AUTH_GRPC_PORT: "99999",
      LARK_APP_ID: "bad",
      LARK_APP_SECRET: appSecret,
      LARK_AUTH_BIND_HOST: "127.0.0.1",
    });
    started.push(proc);
    const exit = await Promise.race([
      proc.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit")), 20_000)),
    ]);
    expect(exit).toEqual({ code: 1, signal: null });
    const lines = proc.stderr().split("\n").filter(Boolean);
    const naming = (setting: string) => lines.filter((l) => l.includes(setting));
    expect(naming("LARK_AUTH_GRPC_PORT")).toHaveLength(1);
    expect(naming("LARK_AUTH_GRPC_PORT")[0]).toMatch(/^config error: LARK_AUTH_GRPC_PORT: .*65535/);
    expect(naming("LARK_APP_ID")).toHaveLength(1);
    expect(naming("LARK_APP_ID")[0]).toMatch(/^config error: LARK_APP_ID: must look like cli_/);
    // Nothing started: no banner, no log lines; and the secret is never echoed back.
    expect(proc.stdout()).toBe("");
    expect(proc.stderr()).not.toContain(appSecret);
  }, 30_000);
});
