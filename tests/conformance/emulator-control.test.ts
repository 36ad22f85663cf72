// The control API and the emulator's life cycle: apps, users and their per-app ids (deterministic
// across restarts), config, the pages it serves, and the standalone `npm run emulator` process.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { control, startTestEmulator } from "./emulator-support.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.close());

describe("apps and users", () => {
  it("registers apps with real-looking ids, or with caller-chosen ones", async () => {
    const created = await control(emulator, "POST", "/_emulator/apps", { name: "Demo", encrypt_key: "ek" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "Demo", event_mode: "websocket", encrypt_key: "ek" });
    expect(created.body.app_id).toMatch(/^cli_[0-9a-f]{16}$/);
    expect(created.body.verification_token).toEqual(expect.any(String));
    const fixed = await control(emulator, "POST", "/_emulator/apps", {
      app_id: "cli_00000000000000ff",
      app_secret: "s3cret",
      event_mode: "webhook",
      webhook_url: "http://127.0.0.1:9/hook",
    });
    expect(fixed.body).toMatchObject({
      app_id: "cli_00000000000000ff",
      app_secret: "s3cret",
      event_mode: "webhook",
      webhook_url: "http://127.0.0.1:9/hook",
    });
    expect((await control(emulator, "POST", "/_emulator/apps", { app_id: "nope" })).status).toBe(400);
    const listed = await control(emulator, "GET", "/_emulator/apps");
    expect(listed.body.apps.map((a: { app_id: string }) => a.app_id)).toEqual(
      expect.arrayContaining([created.body.app_id, "cli_00000000000000ff"]),
    );
  });

  it("scopes open_id per app, union_id and user_id per tenant, deterministically across restarts", async () => {
    const ids = async (target: RunningEmulator) => {
      target.registerApp({ app_id: "cli_aaaaaaaaaaaaaaaa", app_secret: "a" });
      target.registerApp({ app_id: "cli_bbbbbbbbbbbbbbbb", app_secret: "b" });
      const answer = await control(target, "POST", "/_emulator/users", {
        name: "Alice",
        email: "alice@example.com",
        app_id: "cli_bbbbbbbbbbbbbbbb",
      });
      expect(answer.status).toBe(201);
      return answer.body;
    };
    const first = await startEmulator();
    const second = await startEmulator();
    try {
      const [a, b] = [await ids(first), await ids(second)];
      expect(a).toEqual(b);
      expect(a.open_id).toMatch(/^ou_[0-9a-f]{32}$/);
      expect(a.union_id).toMatch(/^on_[0-9a-f]{32}$/);
      expect(a.open_id).toBe(a.open_ids.cli_bbbbbbbbbbbbbbbb);
      expect(a.open_ids.cli_aaaaaaaaaaaaaaaa).not.toBe(a.open_id);
      const other = await control(first, "POST", "/_emulator/users", {
        name: "Alice",
        email: "alice@example.com",
        tenant_key: "othertenant",
        app_id: undefined,
      });
      expect(other.status).toBe(400);
      first.registerApp({ tenant_key: "othertenant" });
      const elsewhere = await control(first, "POST", "/_emulator/users", {
        name: "Alice",
        email: "alice@example.com",
        tenant_key: "othertenant",
      });
      expect(elsewhere.body.union_id).not.toBe(a.union_id);
      expect(
        (await control(first, "GET", "/_emulator/users?tenant_key=othertenant")).body.users,
      ).toHaveLength(1);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("validates user input and 404s unknown users", async () => {
    expect((await control(emulator, "POST", "/_emulator/users", { email: "x@example.com" })).status).toBe(
      400,
    );
    expect((await control(emulator, "GET", "/_emulator/users/ou_nobody/messages")).status).toBe(404);
    expect((await control(emulator, "POST", "/_emulator/users/ou_nobody/revoke", {})).status).toBe(404);
  });
});

describe("config", () => {
  it("changes token lifetimes for the following requests and rejects unknown knobs", async () => {
    const answer = await control(emulator, "POST", "/_emulator/config", {
      access_token_expires_in: 60,
      ws_reconnect_nonce: 0,
    });
    expect(answer.body).toMatchObject({
      access_token_expires_in: 60,
      refresh_token_expires_in: 604800,
      code_expires_in: 300,
    });
    expect((await control(emulator, "POST", "/_emulator/config", { nonsense: 1 })).status).toBe(400);
    await control(emulator, "POST", "/_emulator/config", { access_token_expires_in: 7200 });
  });
});

describe("pages", () => {
  it("serves the users page and a chat page that signs the user in", async () => {
    const app = emulator.registerApp();
    const user = emulator.createUser({ name: "Page User", app_id: app.app_id });
    const list = await fetch(`${emulator.url}/_emulator/ui`);
    expect(list.headers.get("content-type")).toContain("text/html");
    expect(await list.text()).toContain("Page User");
    const chat = await fetch(`${emulator.url}/_emulator/ui/users/${user.open_id}`);
    expect(chat.status).toBe(200);
    expect(chat.headers.get("set-cookie")).toContain(`emulator_user=${user.open_id}`);
    expect((await fetch(`${emulator.url}/_emulator/ui/users/ou_nobody`)).status).toBe(404);
    expect((await fetch(`${emulator.url}/nothing/here`)).status).toBe(404);
  });
});

describe("standalone", () => {
  it("starts on LARK_EMULATOR_PORT, prints its URL and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/emulator/main.ts"], {
      env: { ...process.env, LARK_EMULATOR_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const found = /listening on (http:\/\/\S+)/.exec(out);
        if (found?.[1]) resolve(found[1]);
      });
      child.once("exit", (code) => reject(new Error(`exited early with ${code}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/_emulator/users`)).status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 20_000);
});
