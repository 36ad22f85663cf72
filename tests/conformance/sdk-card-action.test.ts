// The node-sdk WSClient + EventDispatcher against the emulator: a card action delivered over the long
// connection, its answer reaching the clicker, the delayed update, reconnection after dropped, refused
// and half-open connections (the webhook twin is in sdk-card-webhook.test.ts).
import * as lark from "@larksuiteoapi/node-sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AppView, RunningEmulator, UserView } from "../../src/emulator/index.js";
import { appWithUser, control, sdkClient, silentLogger, startTestEmulator } from "./emulator-support.js";

let emulator: RunningEmulator;
const cleanups: Array<() => unknown> = [];
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterEach(async () => {
  emulator.clearFaults();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(() => emulator.close());

const authCard = (state: string) => ({
  schema: "2.0",
  config: { update_multi: true },
  header: { title: { tag: "plain_text", content: "Authorization required" }, template: "blue" },
  body: {
    elements: [
      {
        tag: "button",
        text: { tag: "plain_text", content: "Open" },
        behaviors: [{ type: "open_url", default_url: "https://example.com" }],
      },
      {
        tag: "button",
        text: { tag: "plain_text", content: "I've authorized" },
        behaviors: [{ type: "callback", value: { action: "auth_done", state } }],
      },
      {
        tag: "button",
        text: { tag: "plain_text", content: "Cancel" },
        behaviors: [{ type: "callback", value: { action: "cancel", state } }],
      },
    ],
  },
});
const doneCard = {
  schema: "2.0",
  header: { title: { tag: "plain_text", content: "Authorized" }, template: "green" },
  body: { elements: [] },
};

/** What the SDK's dispatcher hands a `card.action.trigger` handler (header and event flattened). */
interface CardEvent {
  token: string;
  action: { value: unknown; tag: string };
  [key: string]: unknown;
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A connected WSClient whose dispatcher records every card action and answers with `answer(data)`. */
async function connect(app: AppView, answer: (data: CardEvent) => unknown) {
  const seen: Array<CardEvent> = [];
  const dispatcher = new lark.EventDispatcher({ logger: silentLogger }).register({
    "card.action.trigger": async (data: CardEvent) => {
      seen.push(data);
      return answer(data);
    },
  });
  const ws = new lark.WSClient({
    appId: app.app_id,
    appSecret: app.app_secret,
    domain: emulator.url,
    logger: silentLogger,
  });
  await ws.start({ eventDispatcher: dispatcher });
  cleanups.push(() => ws.close({ force: true }));
  await until(() => emulator.connectionCount(app.app_id) === 1);
  return { ws, seen };
}

async function sendCard(app: AppView, user: UserView, state = "st-1"): Promise<string> {
  const sent = await sdkClient(emulator, app).im.v1.message.create({
    params: { receive_id_type: "open_id" },
    data: { receive_id: user.open_id, msg_type: "interactive", content: JSON.stringify(authCard(state)) },
  });
  return String(sent.data?.message_id);
}

const click = (messageId: string, body: Record<string, unknown>) =>
  control(emulator, "POST", `/_emulator/cards/${messageId}/actions`, body);

describe("card actions over the long connection", () => {
  it("delivers card.action.trigger to the handler and brings its toast and card back to the clicker", async () => {
    const { app, user } = appWithUser(emulator);
    const { seen } = await connect(app, () => ({
      toast: { type: "success", content: "Thanks" },
      card: { type: "raw", data: doneCard },
    }));
    const messageId = await sendCard(app, user);
    const answer = await click(messageId, {
      operator_open_id: user.open_id,
      value: { state: "st-1", action: "auth_done" },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      acked: true,
      toast: { type: "success", content: "Thanks" },
      message: { card: doneCard },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      schema: "2.0",
      event_type: "card.action.trigger",
      app_id: app.app_id,
      operator: { open_id: user.open_id, union_id: user.union_id, user_id: user.user_id },
      action: { value: { action: "auth_done", state: "st-1" }, tag: "button" },
      host: "im_message",
      context: { open_message_id: messageId },
    });
    expect(seen[0]?.token).toMatch(/^c-/);
    expect(emulator.messagesOf(user.open_id)[0]?.card).toEqual(doneCard);
  });

  it("clicks by index, refuses strangers and unknown buttons", async () => {
    const { app, user } = appWithUser(emulator);
    const { seen } = await connect(app, () => undefined);
    const messageId = await sendCard(app, user);
    expect((await click(messageId, { operator_open_id: user.open_id, index: 1 })).body).toMatchObject({
      acked: true,
    });
    expect(seen[0]?.action.value).toEqual({ action: "cancel", state: "st-1" });
    expect((await click(messageId, { operator_open_id: user.open_id, index: 5 })).status).toBe(400);
    expect(
      (await click(messageId, { operator_open_id: user.open_id, value: { action: "other" } })).status,
    ).toBe(400);
    const stranger = emulator.createUser({ name: "Stranger", app_id: app.app_id });
    expect((await click(messageId, { operator_open_id: stranger.open_id, index: 0 })).status).toBe(403);
  });

  it("applies a delayed update with the callback token twice, then refuses", async () => {
    const { app, user } = appWithUser(emulator);
    const { seen } = await connect(app, () => ({ toast: { type: "info", content: "Working" } }));
    const messageId = await sendCard(app, user);
    await click(messageId, { operator_open_id: user.open_id, index: 0 });
    const client = sdkClient(emulator, app);
    const update = (title: string) =>
      client.request({
        method: "POST",
        url: "/open-apis/interactive/v1/card/update",
        data: {
          token: seen[0]?.token,
          card: { ...doneCard, header: { title: { tag: "plain_text", content: title } } },
        },
      });
    expect(await update("first")).toMatchObject({ code: 0 });
    expect(await update("second")).toMatchObject({ code: 0 });
    expect(emulator.messagesOf(user.open_id)[0]?.card).toMatchObject({
      header: { title: { content: "second" } },
    });
    await expect(update("third")).rejects.toMatchObject({
      response: { status: 400, data: { code: 230001 } },
    });
  });

  it("reconnects after the emulator drops the connection", async () => {
    const { app, user } = appWithUser(emulator);
    const { seen } = await connect(app, () => ({ toast: { type: "info", content: "again" } }));
    const bootstraps = () =>
      emulator.calls({ appId: app.app_id, path: "/callback/ws/endpoint" })[0]?.count ?? 0;
    expect(bootstraps()).toBe(1);
    expect(
      (await control(emulator, "POST", "/_emulator/faults", { drop_connections: true, app_id: app.app_id }))
        .status,
    ).toBe(201);
    await until(() => bootstraps() === 2 && emulator.connectionCount(app.app_id) === 1);
    const messageId = await sendCard(app, user);
    expect((await click(messageId, { operator_open_id: user.open_id, index: 0 })).body).toMatchObject({
      acked: true,
      toast: { content: "again" },
    });
    expect(seen).toHaveLength(1);
  });

  it("keeps refusing connections until the fault is cleared", async () => {
    const { app } = appWithUser(emulator);
    await connect(app, () => undefined);
    await control(emulator, "POST", "/_emulator/faults", { refuse_connections: true });
    await control(emulator, "POST", "/_emulator/faults", { drop_connections: true, app_id: app.app_id });
    const bootstraps = () =>
      emulator.calls({ appId: app.app_id, path: "/callback/ws/endpoint" })[0]?.count ?? 0;
    await until(() => bootstraps() >= 3, 8000);
    expect(emulator.connectionCount(app.app_id)).toBe(0);
    await control(emulator, "DELETE", "/_emulator/faults");
    await until(() => emulator.connectionCount(app.app_id) === 1, 8000);
  });

  it("redelivers once a half-open connection answers again", async () => {
    const { app, user } = appWithUser(emulator);
    const { seen } = await connect(app, () => ({ toast: { type: "info", content: "late" } }));
    const messageId = await sendCard(app, user);
    await control(emulator, "POST", "/_emulator/faults", { half_open: true });
    const pending = click(messageId, { operator_open_id: user.open_id, index: 0 });
    await new Promise((r) => setTimeout(r, 1300));
    expect(seen).toHaveLength(0);
    await control(emulator, "POST", "/_emulator/faults", { half_open: false });
    const answer = await pending;
    expect(answer.body).toMatchObject({ acked: true, toast: { content: "late" } });
    expect(answer.body.attempts).toBeGreaterThanOrEqual(2);
  });
});
