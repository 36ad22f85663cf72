// User info with a user access token through the node-sdk, the gateway's token errors, and revoking a
// user's grant through the control API.
import * as lark from "@larksuiteoapi/node-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import {
  approve,
  appWithUser,
  authorizeUrl,
  control,
  exchange,
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

describe("user info and revocation", () => {
  it("returns the user's profile, scope-gated, for a user token", async () => {
    const { app, user } = appWithUser(emulator);
    const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    const token = String((await exchange(emulator, app, code)).body.access_token);
    const info = await sdkClient(emulator, app).authen.v1.userInfo.get({}, lark.withUserAccessToken(token));
    expect(info.code).toBe(0);
    expect(info.data).toMatchObject({
      open_id: user.open_id,
      union_id: user.union_id,
      name: user.name,
      email: user.email,
    });
    expect(info.data).not.toHaveProperty("user_id");
    expect(info.data).not.toHaveProperty("mobile");
  });

  it("answers 99991668 for unknown tokens, 99991663 for tenant tokens and 99991677 once expired", async () => {
    const { app, user } = appWithUser(emulator);
    const client = sdkClient(emulator, app);
    await expect(
      client.authen.v1.userInfo.get({}, lark.withUserAccessToken("eyJforged")),
    ).rejects.toMatchObject({
      response: { status: 400, data: { code: 99991668 } },
    });
    const bare = await fetch(`${emulator.url}/open-apis/authen/v1/user_info`);
    expect(bare.status).toBe(400);
    expect(((await bare.json()) as { code: number }).code).toBe(99991661);
    const tenant = await client.auth.v3.tenantAccessToken.internal({
      data: { app_id: app.app_id, app_secret: app.app_secret },
    });
    const withTenant = await fetch(`${emulator.url}/open-apis/authen/v1/user_info`, {
      headers: { authorization: `Bearer ${(tenant as { tenant_access_token: string }).tenant_access_token}` },
    });
    expect(((await withTenant.json()) as { code: number }).code).toBe(99991663);
    emulator.configure({ access_token_expires_in: 0.05 });
    try {
      const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
      const token = String((await exchange(emulator, app, code)).body.access_token);
      await new Promise((r) => setTimeout(r, 80));
      await expect(client.authen.v1.userInfo.get({}, lark.withUserAccessToken(token))).rejects.toMatchObject({
        response: { status: 400, data: { code: 99991677 } },
      });
    } finally {
      emulator.configure({ access_token_expires_in: 7200 });
    }
  });

  it("revoking a grant kills its access tokens (99991668) and refresh tokens (20064)", async () => {
    const { app, user } = appWithUser(emulator);
    const code = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    const tokens = (await exchange(emulator, app, code)).body;
    const revoked = await control(emulator, "POST", `/_emulator/users/${user.open_id}/revoke`, {});
    expect(revoked.body).toEqual({ revoked_app_ids: [app.app_id] });
    const client = sdkClient(emulator, app);
    await expect(
      client.authen.v1.userInfo.get({}, lark.withUserAccessToken(String(tokens.access_token))),
    ).rejects.toMatchObject({
      response: { status: 400, data: { code: 99991668 } },
    });
    expect((await refreshAt(emulator, app, String(tokens.refresh_token))).body).toMatchObject({
      code: 20064,
    });
    // A new authorization starts a fresh grant that works again.
    const again = approve(emulator, authorizeUrl(emulator, app, { scope: SCOPES }), user.open_id);
    expect((await exchange(emulator, app, again)).body.code).toBe(0);
  });
});
