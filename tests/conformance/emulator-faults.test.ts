// HTTP faults of the control API, observed through the real node-sdk and plain fetch: 5xx, Lark codes
// (including the 99991400 rate-limit answer), latency, time-outs, counts, patterns, and the refresh whose
// answer is lost after the emulator rotated the token.
import * as lark from "@larksuiteoapi/node-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
afterEach(() => control(emulator, "DELETE", "/_emulator/faults"));
afterAll(() => emulator.close());

const USER_INFO = "/open-apis/authen/v1/user_info";

async function userToken() {
  const { app, user } = appWithUser(emulator);
  const code = approve(emulator, authorizeUrl(emulator, app, { scope: "offline_access" }), user.open_id);
  const tokens = (await exchange(emulator, app, code)).body;
  return { app, user, access: String(tokens.access_token), refresh: String(tokens.refresh_token) };
}

describe("HTTP faults", () => {
  it("answers an HTTP 5xx, which the SDK throws as an AxiosError", async () => {
    const { app, access } = await userToken();
    await control(emulator, "POST", "/_emulator/faults", { path: USER_INFO, status: 503, count: 1 });
    const client = sdkClient(emulator, app);
    await expect(client.authen.v1.userInfo.get({}, lark.withUserAccessToken(access))).rejects.toMatchObject({
      response: { status: 503 },
    });
    // count: 1 — the next call goes through.
    expect((await client.authen.v1.userInfo.get({}, lark.withUserAccessToken(access))).code).toBe(0);
  });

  it("answers a Lark code in the shape of the path: gateway body, or OAuth body on the token endpoint", async () => {
    const { app, refresh } = await userToken();
    await control(emulator, "POST", "/_emulator/faults", { path: "/open-apis/im/*", code: 99991663 });
    await control(emulator, "POST", "/_emulator/faults", {
      path: "/open-apis/authen/v2/oauth/token",
      code: 20050,
      count: 1,
    });
    const gateway = await fetch(`${emulator.url}/open-apis/im/v1/messages?receive_id_type=open_id`, {
      method: "POST",
    });
    expect(gateway.status).toBe(400);
    expect(await gateway.json()).toMatchObject({
      code: 99991663,
      msg: expect.stringContaining("Invalid access token"),
    });
    const oauth = await refreshAt(emulator, app, refresh);
    expect(oauth).toMatchObject({ status: 500, body: { code: 20050, error: "server_error" } });
    expect((await refreshAt(emulator, app, refresh)).body.code).toBe(0);
  });

  it("answers the rate-limit fault with HTTP 429, 99991400 and x-ogw-ratelimit headers", async () => {
    const { app, user } = appWithUser(emulator);
    await control(emulator, "POST", "/_emulator/faults", {
      path: "/open-apis/im/v1/messages",
      code: 99991400,
      app_id: app.app_id,
    });
    const client = sdkClient(emulator, app);
    type Rejection = { response: { status: number; data: unknown; headers: Record<string, string> } };
    const error = (await client.im.v1.message
      .create({
        params: { receive_id_type: "open_id" },
        data: { receive_id: user.open_id, msg_type: "text", content: '{"text":"hi"}' },
      })
      .catch((e: unknown) => e)) as Rejection;
    expect(error).toMatchObject({
      response: { status: 429, data: { code: 99991400, msg: "request trigger frequency limit" } },
    });
    expect(error.response.headers["x-ogw-ratelimit-limit"]).toBeDefined();
    expect(error.response.headers["x-ogw-ratelimit-reset"]).toBeDefined();
    // Another app is not affected by an app-scoped fault.
    const other = appWithUser(emulator);
    const ok = await sdkClient(emulator, other.app).im.v1.message.create({
      params: { receive_id_type: "open_id" },
      data: { receive_id: other.user.open_id, msg_type: "text", content: '{"text":"hi"}' },
    });
    expect(ok.code).toBe(0);
  });

  it("matches by method and answers a chosen status, code and msg together", async () => {
    const { app, access } = await userToken();
    await control(emulator, "POST", "/_emulator/faults", {
      path: "/open-apis/authen/v1/*",
      method: "GET",
      code: 99991672,
      status: 403,
      msg: "No permission",
    });
    const res = await fetch(`${emulator.url}${USER_INFO}`, {
      headers: { authorization: `Bearer ${access}` },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 99991672, msg: "No permission" });
    // A POST to the same family of paths is not affected.
    const url = authorizeUrl(emulator, app, { scope: "offline_access" });
    const post = await fetch(url, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "decision=deny",
    });
    expect(post.status).toBe(302);
  });

  it("adds latency", async () => {
    const { access } = await userToken();
    await control(emulator, "POST", "/_emulator/faults", { path: USER_INFO, latency_ms: 300, count: 1 });
    const started = Date.now();
    const res = await fetch(`${emulator.url}${USER_INFO}`, {
      headers: { authorization: `Bearer ${access}` },
    });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("holds a request without answering until the client times out", async () => {
    const { access } = await userToken();
    await control(emulator, "POST", "/_emulator/faults", {
      path: "^/open-apis/authen/v1/.*$",
      timeout: true,
      count: 1,
    });
    const call = fetch(`${emulator.url}${USER_INFO}`, {
      headers: { authorization: `Bearer ${access}` },
      signal: AbortSignal.timeout(300),
    });
    await expect(call).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("performs a refresh but loses its answer (reset_after_commit): the old refresh token is spent", async () => {
    const { app, user, refresh } = await userToken();
    const added = await control(emulator, "POST", "/_emulator/faults", {
      path: "/open-apis/authen/v2/oauth/token",
      reset_after_commit: true,
      count: 1,
    });
    expect(added.body.id).toMatch(/^fault-/);
    await expect(refreshAt(emulator, app, refresh)).rejects.toThrow();
    expect((await refreshAt(emulator, app, refresh)).body.code).toBe(20073);
    // The user authorizes again and the service recovers.
    const code = approve(emulator, authorizeUrl(emulator, app, { scope: "offline_access" }), user.open_id);
    expect((await exchange(emulator, app, code)).body.code).toBe(0);
  });

  it("lists, removes one, and clears faults; rejects a fault with nothing to do", async () => {
    const one = await control(emulator, "POST", "/_emulator/faults", { path: "/a", status: 500 });
    await control(emulator, "POST", "/_emulator/faults", { path: "/b", status: 500 });
    expect((await control(emulator, "GET", "/_emulator/faults")).body.faults).toHaveLength(2);
    await control(emulator, "DELETE", `/_emulator/faults/${one.body.id}`);
    expect(
      (await control(emulator, "GET", "/_emulator/faults")).body.faults.map((f: { path: string }) => f.path),
    ).toEqual(["/b"]);
    await control(emulator, "DELETE", "/_emulator/faults");
    expect((await control(emulator, "GET", "/_emulator/faults")).body.faults).toEqual([]);
    expect((await control(emulator, "POST", "/_emulator/faults", { status: 500 })).status).toBe(400);
    expect((await control(emulator, "POST", "/_emulator/faults", { path: "/x", bogus: 1 })).status).toBe(400);
  });
});

describe("call counts", () => {
  it("counts each Open Platform path per app, and not the control API", async () => {
    const { app, access } = await userToken();
    await fetch(`${emulator.url}${USER_INFO}`, { headers: { authorization: `Bearer ${access}` } });
    await fetch(`${emulator.url}${USER_INFO}`, { headers: { authorization: `Bearer ${access}` } });
    const calls = await control(emulator, "GET", `/_emulator/calls?app_id=${app.app_id}`);
    expect(calls.body.calls).toEqual(
      expect.arrayContaining([
        { method: "GET", path: USER_INFO, app_id: app.app_id, count: 2 },
        { method: "POST", path: "/open-apis/authen/v2/oauth/token", app_id: app.app_id, count: 1 },
      ]),
    );
    expect(calls.body.calls.some((c: { path: string }) => c.path.startsWith("/_emulator"))).toBe(false);
  });
});
