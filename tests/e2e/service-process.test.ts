import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { PROJECT_NODE, type ServiceProcess, spawnService } from "../support/service-process.js";

const FIXED_KEY = "lak_e2e_fixed_dev_caller_key_0000000001";
const SEEDED = buildSession({ appId: SANDBOX_APP_ID, context: "resume-here" });

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
  const started: ServiceProcess[] = [];

  /** Starts the process on fresh free ports with no Lark app configured, and waits until it listens. */
  async function start(extra: Record<string, string> = {}): Promise<Running> {
    const [grpcPort, httpPort, emulatorPort] = (await freePorts(3)) as [number, number, number];
    const proc = spawnService({
      LARK_AUTH_DATA_DIR: dataDir,
      LARK_AUTH_GRPC_PORT: String(grpcPort),
      LARK_AUTH_HTTP_PORT: String(httpPort),
      LARK_AUTH_EMULATOR_PORT: String(emulatorPort),
      LARK_AUTH_BIND_HOST: "127.0.0.1",
      ...extra,
    });
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
    const r = await start();
    const out = r.proc.stdout();
    expect(out).toContain(`Lark emulator:       http://127.0.0.1:${r.emulatorPort}`);
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
