// A card action delivered to an app in webhook mode, answered by the node-sdk's EventDispatcher behind
// adaptDefault, after the console-style URL verification.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as lark from "@larksuiteoapi/node-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { appWithUser, control, sdkClient, silentLogger, startTestEmulator } from "./emulator-support.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.close());

interface CardEvent {
  [key: string]: unknown;
}

const card = {
  schema: "2.0",
  body: {
    elements: [
      {
        tag: "button",
        text: { tag: "plain_text", content: "Go" },
        behaviors: [{ type: "callback", value: { action: "go" } }],
      },
    ],
  },
};

describe("card actions over a webhook", () => {
  let server: Server;
  let url = "";
  const seen: Array<CardEvent> = [];
  beforeAll(async () => {
    const dispatcher = new lark.EventDispatcher({ logger: silentLogger }).register({
      "card.action.trigger": async (data: CardEvent) => {
        seen.push(data);
        return { toast: { type: "success", content: "via webhook" } };
      },
    });
    server = createServer(lark.adaptDefault("/webhook", dispatcher, { autoChallenge: true }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it("verifies the URL and delivers the callback to the app's HTTP endpoint", async () => {
    const { app, user } = appWithUser(emulator, { event_mode: "webhook", webhook_url: url });
    expect((await control(emulator, "POST", `/_emulator/apps/${app.app_id}/verify-webhook`)).body).toEqual({
      verified: true,
    });
    const sent = await sdkClient(emulator, app).im.v1.message.create({
      params: { receive_id_type: "open_id" },
      data: { receive_id: user.open_id, msg_type: "interactive", content: JSON.stringify(card) },
    });
    const messageId = String(sent.data?.message_id);
    const answer = await control(emulator, "POST", `/_emulator/cards/${messageId}/actions`, {
      operator_open_id: user.open_id,
      value: { action: "go" },
    });
    expect(answer.body).toMatchObject({ acked: true, toast: { content: "via webhook" } });
    expect(seen.at(-1)).toMatchObject({
      operator: { open_id: user.open_id },
      context: { open_message_id: messageId },
    });
  });
});
