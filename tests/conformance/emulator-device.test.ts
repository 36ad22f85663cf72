// The device authorization grant: device_authorization, the verification page, and polling answers
// (authorization_pending, slow_down, access_denied, expired_token) on the v2 and v3 token endpoints.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AppView, RunningEmulator } from "../../src/emulator/index.js";
import { appWithUser, control, post, startTestEmulator } from "./emulator-support.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator({ config: { devicePollIntervalSeconds: 0 } });
});
afterEach(() => {
  emulator.configure({ device_poll_interval: 0, device_code_expires_in: 240 });
});
afterAll(() => emulator.close());

const basic = (app: AppView) => `Basic ${Buffer.from(`${app.app_id}:${app.app_secret}`).toString("base64")}`;

async function start(app: AppView, scope = "contact:user.email:readonly offline_access") {
  const answer = await post(
    `${emulator.url}/oauth/v1/device_authorization`,
    { client_id: app.app_id, scope },
    { form: true, headers: { authorization: basic(app) } },
  );
  expect(answer.status).toBe(200);
  return answer.body as {
    device_code: string;
    user_code: string;
    verification_uri: string;
    verification_uri_complete: string;
    expires_in: number;
    interval: number;
  };
}

const poll = (app: AppView, deviceCode: string, path = "/oauth/v3/token") =>
  post(
    `${emulator.url}${path}`,
    {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: deviceCode,
      client_id: app.app_id,
      client_secret: app.app_secret,
    },
    { form: true },
  );

describe("device flow", () => {
  it("is pending until the user approves, then issues tokens once", async () => {
    const { app, user } = appWithUser(emulator);
    const device = await start(app);
    expect(device.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(device.verification_uri).toBe(`${emulator.url}/oauth/v1/device/verify`);
    expect(device.verification_uri_complete).toContain(`user_code=${device.user_code}`);
    expect(device).toMatchObject({ expires_in: 240, interval: 0 });
    expect(await poll(app, device.device_code)).toMatchObject({
      status: 400,
      body: { error: "authorization_pending" },
    });
    const decided = await control(emulator, "POST", "/_emulator/oauth/decide", {
      url: device.verification_uri_complete,
      open_id: user.open_id,
      decision: "approve",
    });
    expect(decided).toEqual({ status: 200, body: {} });
    const tokens = await poll(app, device.device_code, "/open-apis/authen/v2/oauth/token");
    expect(tokens.body).toMatchObject({
      code: 0,
      token_type: "Bearer",
      scope: "contact:user.email:readonly offline_access",
    });
    expect(tokens.body.refresh_token).toMatch(/^eyJ/);
    expect((await poll(app, device.device_code)).body.error).toBe("invalid_grant");
  });

  it("answers access_denied for an approval made before a revoke, even after a new approval", async () => {
    const { app, user } = appWithUser(emulator);
    const decide = (url: string) =>
      control(emulator, "POST", "/_emulator/oauth/decide", {
        url,
        open_id: user.open_id,
        decision: "approve",
      });
    const first = await start(app);
    await decide(first.verification_uri_complete);
    expect((await control(emulator, "POST", `/_emulator/users/${user.open_id}/revoke`, {})).status).toBe(200);
    const second = await start(app);
    await decide(second.verification_uri_complete);
    expect((await poll(app, first.device_code)).body.error).toBe("access_denied");
    expect((await poll(app, second.device_code)).body).toMatchObject({ code: 0, token_type: "Bearer" });
  });

  it("answers access_denied when the user declines on the verification page", async () => {
    const { app, user } = appWithUser(emulator);
    const device = await start(app);
    const page = await fetch(device.verification_uri_complete);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(device.user_code);
    const form = new URLSearchParams({
      user_code: device.user_code.toLowerCase().replace("-", ""),
      open_id: user.open_id,
      decision: "deny",
    });
    const submitted = await fetch(device.verification_uri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(submitted.status).toBe(200);
    expect((await poll(app, device.device_code)).body.error).toBe("access_denied");
  });

  it("lets only a user of the app's tenant decide", async () => {
    const { app } = appWithUser(emulator);
    const foreignApp = emulator.registerApp({ tenant_key: "device-foreign-tenant" });
    const outsider = emulator.createUser({ name: "Outsider", app_id: foreignApp.app_id });
    const device = await start(app);
    const decided = await control(emulator, "POST", "/_emulator/oauth/decide", {
      url: device.verification_uri_complete,
      open_id: outsider.open_id,
      decision: "approve",
    });
    expect(decided.status).toBe(400);
    const form = new URLSearchParams({
      user_code: device.user_code,
      open_id: outsider.open_id,
      decision: "approve",
    });
    const submitted = await fetch(device.verification_uri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(submitted.status).toBe(400);
    expect((await poll(app, device.device_code)).body.error).toBe("authorization_pending");
  });

  it("answers slow_down when polled faster than the interval", async () => {
    const { app } = appWithUser(emulator);
    emulator.configure({ device_poll_interval: 5 });
    const device = await start(app);
    expect(device.interval).toBe(5);
    expect((await poll(app, device.device_code)).body.error).toBe("authorization_pending");
    expect((await poll(app, device.device_code)).body.error).toBe("slow_down");
  });

  it("answers expired_token after the device code lifetime", async () => {
    const { app } = appWithUser(emulator);
    emulator.configure({ device_code_expires_in: 0.05 });
    const device = await start(app);
    await new Promise((r) => setTimeout(r, 80));
    expect((await poll(app, device.device_code)).body.error).toBe("expired_token");
    const late = await control(emulator, "POST", "/_emulator/oauth/decide", {
      url: device.verification_uri_complete,
      open_id: "x",
      decision: "approve",
    });
    expect(late.status).toBe(400);
  });

  it("rejects bad client credentials", async () => {
    const { app } = appWithUser(emulator);
    const answer = await post(
      `${emulator.url}/oauth/v1/device_authorization`,
      { client_id: app.app_id, scope: "offline_access" },
      { form: true, headers: { authorization: basic({ ...app, app_secret: "bad" }) } },
    );
    expect(answer).toMatchObject({ status: 401, body: { error: "invalid_client" } });
  });
});
