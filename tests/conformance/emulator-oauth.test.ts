// The OAuth authorization-code flow against the emulator: authorize page and decisions, the v2 and v3
// token endpoints (PKCE, single-use codes, rotating refresh tokens), user info and revocation.
import * as lark from "@larksuiteoapi/node-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import {
  approve,
  appWithUser,
  authorizeUrl,
  control,
  exchange,
  pkcePair,
  post,
  REDIRECT_URI,
  refreshAt,
  sdkClient,
  startTestEmulator,
} from "./emulator-support.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.close());

const SCOPES = "contact:user.email:readonly offline_access";

describe("authorize page", () => {
  it("renders consent for the signed-in user and redirects with code and state on approval", async () => {
    const { app, user } = appWithUser(emulator);
    const url = authorizeUrl(emulator, app, { scope: SCOPES, state: "s#1" });
    const page = await fetch(url, { headers: { cookie: `emulator_user=${user.open_id}` } });
    expect(page.status).toBe(200);
    const markup = await page.text();
    expect(markup).toContain(app.name);
    expect(markup).toContain("offline_access");
    const form = new URLSearchParams({ open_id: user.open_id, decision: "approve" });
    const submitted = await fetch(url, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(submitted.status).toBe(302);
    const location = new URL(submitted.headers.get("location") ?? "");
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get("state")).toBe("s#1");
    expect(location.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(submitted.headers.get("set-cookie")).toContain(`emulator_user=${user.open_id}`);
  });

  it("redirects with error=access_denied when the user declines", async () => {
    const { app, user } = appWithUser(emulator);
    const url = authorizeUrl(emulator, app, { scope: SCOPES, state: "xyz" });
    const answer = await control(emulator, "POST", "/_emulator/oauth/decide", {
      url,
      open_id: user.open_id,
      decision: "deny",
    });
    const location = new URL(answer.body.redirect_url);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("xyz");
    expect(location.searchParams.has("code")).toBe(false);
  });

  it("refuses redirect URIs the app did not register and scopes it does not have", async () => {
    const { app } = appWithUser(emulator, { scopes: ["offline_access"] });
    const bad = new URL(authorizeUrl(emulator, app, { scope: "offline_access" }));
    bad.searchParams.set("redirect_uri", "http://evil.example/cb");
    expect((await fetch(bad)).status).toBe(400);
    const page = await fetch(authorizeUrl(emulator, app, { scope: "calendar:calendar offline_access" }));
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("20027");
  });
});

describe("malformed percent-encoding", () => {
  it("answers normally despite a foreign cookie, a Basic secret or a path segment that is not valid percent-encoding", async () => {
    const { app, user } = appWithUser(emulator);
    // Cookies are shared by every port of 127.0.0.1: another local app's cookie must not break the page.
    const page = await fetch(authorizeUrl(emulator, app, { scope: SCOPES }), {
      headers: { cookie: `other_app=100%; emulator_user=${user.open_id}` },
    });
    expect(page.status).toBe(200);
    const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    const basic = `Basic ${Buffer.from(`${app.app_id}:50%off`).toString("base64")}`;
    const wrong = await post(
      `${emulator.url}/open-apis/authen/v2/oauth/token`,
      { grant_type: "authorization_code", code },
      { form: true, headers: { authorization: basic } },
    );
    expect(wrong).toMatchObject({ status: 400, body: { code: 20002, error: "invalid_client" } });
    const messages = await control(emulator, "GET", "/_emulator/users/%E0%A4%A/messages");
    expect(messages.status).toBe(404);
  });
});

describe("v2 token endpoint", () => {
  it("exchanges a code once, with refresh token only for offline_access", async () => {
    const { app, user } = appWithUser(emulator);
    const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    const first = await exchange(emulator, app, code, { redirect_uri: REDIRECT_URI });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      code: 0,
      expires_in: 7200,
      refresh_token_expires_in: 604800,
      token_type: "Bearer",
    });
    expect(first.body.access_token).toMatch(/^eyJ/);
    expect(first.body.refresh_token).toMatch(/^eyJ/);
    expect(first.body.scope).toBe(SCOPES);
    const again = await exchange(emulator, app, code);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ code: 20065, error: "invalid_grant" });

    const noOffline = approve(
      emulator,
      authorizeUrl(emulator, app, { scope: "contact:user.email:readonly" }),
      user.open_id,
    );
    const narrowed = await exchange(emulator, app, noOffline, { scope: "contact:user.email:readonly" });
    expect(narrowed.body.scope).toBe("contact:user.email:readonly");
  });

  it("omits the refresh token when offline_access was never granted", async () => {
    const { app, user } = appWithUser(emulator);
    const code = approve(
      emulator,
      authorizeUrl(emulator, app, { scope: "contact:user.email:readonly" }),
      user.open_id,
    );
    const answer = await exchange(emulator, app, code);
    expect(answer.body.code).toBe(0);
    expect(answer.body).not.toHaveProperty("refresh_token");
    expect(answer.body).not.toHaveProperty("refresh_token_expires_in");
  });

  it("answers the documented errors for unknown, expired and foreign codes and bad clients", async () => {
    const { app, user } = appWithUser(emulator);
    expect((await exchange(emulator, app, "nope")).body).toMatchObject({
      code: 20003,
      error: "invalid_grant",
    });
    const other = emulator.registerApp({ redirect_urls: [REDIRECT_URI] });
    const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    expect((await exchange(emulator, other, code)).body.code).toBe(20024);
    expect((await exchange(emulator, app, code, { redirect_uri: "http://other/cb" })).body.code).toBe(20071);
    const wrongSecret = await exchange(emulator, { ...app, app_secret: "wrong" }, code);
    expect(wrongSecret).toMatchObject({ status: 400, body: { code: 20002, error: "invalid_client" } });
    const basic = `Basic ${Buffer.from(`${app.app_id}:${app.app_secret}`).toString("base64")}`;
    const both = await post(
      `${emulator.url}/open-apis/authen/v2/oauth/token`,
      { grant_type: "authorization_code", code, client_secret: app.app_secret },
      { headers: { authorization: basic } },
    );
    expect(both.body.code).toBe(20070);
    const viaBasic = await post(
      `${emulator.url}/open-apis/authen/v2/oauth/token`,
      { grant_type: "authorization_code", code },
      { form: true, headers: { authorization: basic } },
    );
    expect(viaBasic.body.code).toBe(0);
    expect((await exchange(emulator, app, code, { grant_type: "password" })).body.code).toBe(20036);
  });

  it("expires codes after the configured lifetime", async () => {
    const { app, user } = appWithUser(emulator);
    emulator.configure({ code_expires_in: 0.05 });
    try {
      const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
      await new Promise((r) => setTimeout(r, 80));
      expect((await exchange(emulator, app, code)).body).toMatchObject({
        code: 20004,
        error: "invalid_grant",
      });
    } finally {
      emulator.configure({ code_expires_in: 300 });
    }
  });

  it("refuses a code issued before a revoke, even after the user approved again (20003)", async () => {
    const { app, user } = appWithUser(emulator);
    const stale = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    const revoked = await control(emulator, "POST", `/_emulator/users/${user.open_id}/revoke`, {});
    expect(revoked.body).toEqual({ revoked_app_ids: [app.app_id] });
    // Re-approval starts a new grant; the code from the old one must not ride on it.
    const fresh = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    const answer = await exchange(emulator, app, stale);
    expect(answer).toMatchObject({ status: 400, body: { code: 20003, error: "invalid_grant" } });
    expect((await exchange(emulator, app, stale)).body.code).toBe(20003); // dead, not "already used"
    expect((await exchange(emulator, app, fresh)).body.code).toBe(0);
  });

  it.each(["S256", "plain"] as const)("checks PKCE %s", async (method) => {
    const { app, user } = appWithUser(emulator);
    const { verifier, challenge } = pkcePair(method);
    const url = authorizeUrl(emulator, app, { scope: SCOPES, challenge, method });
    const code = approve(emulator, url, user.open_id);
    expect((await exchange(emulator, app, code)).body.code).toBe(20049);
    expect((await exchange(emulator, app, code, { code_verifier: pkcePair().verifier })).body.code).toBe(
      20049,
    );
    expect((await exchange(emulator, app, code, { code_verifier: verifier })).body.code).toBe(0);
  });

  it("rotates refresh tokens: single use, and the old one is dead at once", async () => {
    const { app, user } = appWithUser(emulator);
    const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    const first = (await exchange(emulator, app, code)).body;
    const second = await refreshAt(emulator, app, String(first.refresh_token));
    expect(second.body.code).toBe(0);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await refreshAt(emulator, app, String(first.refresh_token))).body).toMatchObject({
      code: 20073,
      error: "invalid_grant",
    });
    expect((await refreshAt(emulator, app, "eyJunknown")).body.code).toBe(20026);
    expect(
      (await refreshAt(emulator, app, String(second.body.refresh_token), { scope: "a a" })).body.code,
    ).toBe(20067);
    expect(
      (await refreshAt(emulator, app, String(second.body.refresh_token), { scope: "calendar:x" })).body.code,
    ).toBe(20068);
    // The old access token keeps working until its own expiry.
    const client = sdkClient(emulator, app);
    const info = await client.authen.v1.userInfo.get(
      {},
      lark.withUserAccessToken(String(first.access_token)),
    );
    expect(info.data?.open_id).toBe(user.open_id);
  });

  it("expires refresh tokens after the configured lifetime", async () => {
    const { app, user } = appWithUser(emulator);
    emulator.configure({ refresh_token_expires_in: 0.05 });
    try {
      const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
      const tokens = (await exchange(emulator, app, code)).body;
      await new Promise((r) => setTimeout(r, 80));
      expect((await refreshAt(emulator, app, String(tokens.refresh_token))).body.code).toBe(20037);
    } finally {
      emulator.configure({ refresh_token_expires_in: 604800 });
    }
  });
});

describe("v3 token endpoint through the SDK's accessToken helper", () => {
  it("exchanges a PKCE code and refreshes", async () => {
    const { app, user } = appWithUser(emulator);
    const { verifier, challenge } = pkcePair();
    const code = approve(
      emulator,
      authorizeUrl(emulator, app, { scope: SCOPES, challenge, method: "S256" }),
      user.open_id,
    );
    const client = sdkClient(emulator, app);
    const tokens = await client.accessToken.retrieveByAuthorizationCode({
      code,
      codeVerifier: verifier,
      redirectUri: REDIRECT_URI,
    });
    expect(tokens.accessToken).toMatch(/^eyJ/);
    expect(tokens.refreshTokenExpiresIn).toBe(604800);
    const refreshed = await client.accessToken.refresh({ refreshToken: tokens.refreshToken ?? "" });
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    await expect(
      client.accessToken.refresh({ refreshToken: tokens.refreshToken ?? "" }),
    ).rejects.toMatchObject({
      name: "AccessTokenError",
      code: 20073,
    });
  });

  it("rejects a code_verifier for a code issued without PKCE (v2 ignores it)", async () => {
    const { app, user } = appWithUser(emulator);
    const client = sdkClient(emulator, app);
    const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    await expect(
      client.accessToken.retrieveByAuthorizationCode({ code, codeVerifier: pkcePair().verifier }),
    ).rejects.toMatchObject({
      code: 20049,
    });
    expect((await exchange(emulator, app, code, { code_verifier: pkcePair().verifier })).body.code).toBe(0);
  });
});
