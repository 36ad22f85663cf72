import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/net.js";
import { type ServiceProcess, spawnService } from "../support/service-process.js";

const ENTRY = { entry: "src/emulator/main.ts" };

describe("the standalone emulator (npm run emulator) as a real process", () => {
  const started: ServiceProcess[] = [];

  function spawnEmulator(env: Record<string, string>): ServiceProcess {
    const proc = spawnService(env, ENTRY);
    started.push(proc);
    return proc;
  }

  afterAll(async () => {
    for (const p of started) p.kill();
    await Promise.all(started.map((p) => p.exited));
  });

  it("seeds a demo app and user, prints them, and prints control-API URLs that answer", async () => {
    const port = await freePort();
    const proc = spawnEmulator({ LARK_EMULATOR_PORT: String(port) });
    await proc.waitForOutput(/chat pages:\s+\S+/);
    const out = proc.stdout();
    const [, appId, appSecret] = /app_id=(cli_[0-9a-f]{16}) app_secret=(\S+)/.exec(out) ?? [];
    const [, openId] = /demo user:.*open_id=(ou_\w+)/.exec(out) ?? [];
    expect(appId).toBeDefined();
    expect(openId).toBeDefined();

    const urls = [...out.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]);
    expect(urls.filter((u) => u.includes("/_emulator")).length).toBeGreaterThanOrEqual(3);
    for (const url of urls.filter((u) => u.includes("/_emulator"))) {
      expect(url.startsWith(`http://127.0.0.1:${port}/`), url).toBe(true);
      expect((await fetch(url)).status, url).toBe(200);
    }
    const apps = (await (await fetch(`http://127.0.0.1:${port}/_emulator/apps`)).json()) as {
      apps: { app_id: string; app_secret: string }[];
    };
    expect(apps.apps).toEqual([expect.objectContaining({ app_id: appId, app_secret: appSecret })]);
    const users = (await (
      await fetch(`http://127.0.0.1:${port}/_emulator/users?app_id=${appId}`)
    ).json()) as {
      users: { open_id: string }[];
    };
    expect(users.users.map((u) => u.open_id)).toEqual([openId]);

    // The printed secret is the one the Open Platform accepts.
    const token = await fetch(`http://127.0.0.1:${port}/open-apis/auth/v3/tenant_access_token/internal`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ app_id: appId, app_secret: appSecret }),
    });
    expect(await token.json()).toMatchObject({ code: 0 });
    expect(await proc.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  }, 30_000);

  it("starts empty with LARK_EMULATOR_SEED=0", async () => {
    const port = await freePort();
    const proc = spawnEmulator({ LARK_EMULATOR_PORT: String(port), LARK_EMULATOR_SEED: "0" });
    await proc.waitForOutput(/chat pages:/);
    expect(proc.stdout()).not.toContain("app_id=");
    const apps = (await (await fetch(`http://127.0.0.1:${port}/_emulator/apps`)).json()) as {
      apps: unknown[];
    };
    expect(apps.apps).toEqual([]);
    expect(await proc.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  }, 30_000);

  it("exits 1 with one line naming LARK_EMULATOR_PORT when the port is taken", async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const proc = spawnEmulator({ LARK_EMULATOR_PORT: String(port) });
      expect(await proc.exited).toEqual({ code: 1, signal: null });
      expect(proc.stderr().trim().split("\n")).toEqual([
        `Lark emulator: port ${port} on 127.0.0.1 is already in use; set LARK_EMULATOR_PORT to another port (0 picks a free one)`,
      ]);
      expect(proc.stdout()).toBe("");
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  }, 30_000);
});
