// The node-sdk Client against the emulator: tenant token fetching and caching, sending interactive
// cards to every receive_id_type, uuid de-duplication and updating a card (rate limits: emulator-rate-limits).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { appWithUser, control, post, sdkClient, startTestEmulator } from "./emulator-support.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.close());

const card = (title: string) => ({
  schema: "2.0",
  config: { update_multi: true },
  header: { title: { tag: "plain_text", content: title }, template: "blue" },
  body: {
    elements: [
      { tag: "markdown", content: "Grant **calendar** to continue." },
      {
        tag: "button",
        text: { tag: "plain_text", content: "Done" },
        behaviors: [{ type: "callback", value: { action: "done" } }],
      },
    ],
  },
});

const tokenCalls = (appId: string) =>
  emulator
    .calls({ appId, path: "/open-apis/auth/v3/tenant_access_token/internal" })
    .reduce((n, c) => n + c.count, 0);

describe("tenant access token", () => {
  it("is fetched once and cached by the SDK across calls", async () => {
    const { app, user } = appWithUser(emulator);
    const client = sdkClient(emulator, app);
    for (const title of ["one", "two", "three"]) {
      const sent = await client.im.v1.message.create({
        params: { receive_id_type: "open_id" },
        data: { receive_id: user.open_id, msg_type: "interactive", content: JSON.stringify(card(title)) },
      });
      expect(sent.code).toBe(0);
    }
    expect(tokenCalls(app.app_id)).toBe(1);
  });

  it("answers the documented shapes for good and bad credentials", async () => {
    const { app } = appWithUser(emulator);
    const url = `${emulator.url}/open-apis/auth/v3/tenant_access_token/internal`;
    const ok = await post(url, { app_id: app.app_id, app_secret: app.app_secret });
    expect(ok.body).toMatchObject({ code: 0, msg: "ok", expire: 7200 });
    expect(ok.body.tenant_access_token).toMatch(/^t-/);
    const same = await post(url, { app_id: app.app_id, app_secret: app.app_secret });
    expect(same.body.tenant_access_token).toBe(ok.body.tenant_access_token);
    expect(await post(url, { app_id: app.app_id, app_secret: "nope" })).toMatchObject({
      status: 200,
      body: { code: 10014 },
    });
    expect(await post(url, { app_id: "cli_0000000000000000", app_secret: "x" })).toMatchObject({
      status: 200,
      body: { code: 10003 },
    });
    const appToken = await post(`${emulator.url}/open-apis/auth/v3/app_access_token/internal`, {
      app_id: app.app_id,
      app_secret: app.app_secret,
    });
    expect(appToken.body.app_access_token).toBe(appToken.body.tenant_access_token);
    expect((await fetch(url)).status).toBe(404);
  });

  it("makes a failing token fetch reject the API call", async () => {
    const { app, user } = appWithUser(emulator);
    const client = sdkClient(emulator, { ...app, app_secret: "wrong" });
    await expect(
      client.im.v1.message.create({
        params: { receive_id_type: "open_id" },
        data: { receive_id: user.open_id, msg_type: "interactive", content: JSON.stringify(card("x")) },
      }),
    ).rejects.toThrow(/failed to get tenant_access_token, code: 10014/);
  });
});

describe("sending and updating cards", () => {
  it.each(["open_id", "user_id", "union_id", "email", "chat_id"] as const)(
    "delivers to a %s",
    async (type) => {
      const { app, user } = appWithUser(emulator);
      const client = sdkClient(emulator, app);
      const first = await client.im.v1.message.create({
        params: { receive_id_type: "open_id" },
        data: { receive_id: user.open_id, msg_type: "interactive", content: JSON.stringify(card("first")) },
      });
      const ids = {
        open_id: user.open_id,
        user_id: user.user_id,
        union_id: user.union_id,
        email: user.email,
        chat_id: first.data?.chat_id,
      };
      const sent = await client.im.v1.message.create({
        params: { receive_id_type: type },
        data: { receive_id: String(ids[type]), msg_type: "interactive", content: JSON.stringify(card(type)) },
      });
      expect(sent.data).toMatchObject({
        msg_type: "interactive",
        chat_id: first.data?.chat_id,
        sender: { id: app.app_id, sender_type: "app" },
      });
      expect(sent.data?.message_id).toMatch(/^om_/);
      const inbox = await control(emulator, "GET", `/_emulator/users/${user.open_id}/messages`);
      expect(inbox.body.messages.at(-1)).toMatchObject({
        message_id: sent.data?.message_id,
        msg_type: "interactive",
        card: card(type),
      });
    },
  );

  it("finds an email in the sending app's tenant when another tenant has a user with the same email", async () => {
    const { app, user } = appWithUser(emulator);
    const elsewhere = emulator.registerApp({ tenant_key: `tenant-${user.union_id}` });
    emulator.createUser({ name: "Twin", email: user.email, app_id: elsewhere.app_id });
    const sent = await sdkClient(emulator, app).im.v1.message.create({
      params: { receive_id_type: "email" },
      data: { receive_id: user.email, msg_type: "interactive", content: JSON.stringify(card("twin")) },
    });
    expect(sent.code).toBe(0);
    expect(emulator.messagesOf(user.open_id).map((m) => m.message_id)).toEqual([sent.data?.message_id]);
  });

  it("de-duplicates by uuid", async () => {
    const { app, user } = appWithUser(emulator);
    const client = sdkClient(emulator, app);
    const send = () =>
      client.im.v1.message.create({
        params: { receive_id_type: "open_id" },
        data: {
          receive_id: user.open_id,
          msg_type: "interactive",
          content: JSON.stringify(card("once")),
          uuid: "req-1",
        },
      });
    const [a, b] = [await send(), await send()];
    expect(b.data?.message_id).toBe(a.data?.message_id);
    expect(emulator.messagesOf(user.open_id)).toHaveLength(1);
  });

  it("updates a sent card with PATCH", async () => {
    const { app, user } = appWithUser(emulator);
    const client = sdkClient(emulator, app);
    const sent = await client.im.v1.message.create({
      params: { receive_id_type: "open_id" },
      data: { receive_id: user.open_id, msg_type: "interactive", content: JSON.stringify(card("before")) },
    });
    const messageId = String(sent.data?.message_id);
    const patched = await client.im.v1.message.patch({
      path: { message_id: messageId },
      data: { content: JSON.stringify(card("after")) },
    });
    expect(patched.code).toBe(0);
    expect(emulator.messagesOf(user.open_id)[0]).toMatchObject({
      message_id: messageId,
      updated: true,
      card: card("after"),
    });
    await expect(
      client.im.v1.message.patch({ path: { message_id: "om_nope" }, data: { content: "{}" } }),
    ).rejects.toMatchObject({
      response: { status: 400, data: { code: 230001 } },
    });
  });

  it("rejects another app's open_id, unknown ids and a missing receive_id_type", async () => {
    const { app, user } = appWithUser(emulator);
    const other = emulator.registerApp();
    const client = sdkClient(emulator, other);
    const send = (type: "open_id" | "email", id: string) =>
      client.im.v1.message.create({
        params: { receive_id_type: type },
        data: { receive_id: id, msg_type: "interactive", content: JSON.stringify(card("x")) },
      });
    expect(
      emulator.createUser({ name: user.name, seed: user.name.replace("User ", ""), app_id: other.app_id })
        .open_id,
    ).not.toBe(user.open_id);
    await expect(send("open_id", user.open_id)).rejects.toMatchObject({
      response: { status: 400, data: { code: 99992361 } },
    });
    await expect(send("open_id", "ou_00000000000000000000000000000000")).rejects.toMatchObject({
      response: { data: { code: 99992351 } },
    });
    await expect(send("email", "nobody@example.com")).rejects.toMatchObject({
      response: { data: { code: 230001 } },
    });
    const token = await sdkClient(emulator, app).tokenManager.getTenantAccessToken();
    const missing = await post(
      `${emulator.url}/open-apis/im/v1/messages`,
      { receive_id: user.open_id },
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(missing.body.code).toBe(99992402);
  });
});
