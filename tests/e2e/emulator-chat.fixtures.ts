/** Fixtures for emulator-chat.test.ts: the app's redirect target, its long connection and its cards. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as lark from "@larksuiteoapi/node-sdk";

export const STATE = "st-1";

export type CardAction = { operator?: { open_id?: string }; action?: { value?: unknown } };

/** The app's own OAuth callback: a tiny page that shows the query it received. */
export async function startRedirectTarget(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const query = new URL(req.url ?? "/", "http://127.0.0.1").searchParams;
    const show = (name: string) => (query.get(name) ?? "").replace(/[^\w.-]/g, "");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><title>App callback</title><h1 id="code">${show("code")}</h1>
      <p id="state">${show("state")}</p><p id="error">${show("error")}</p>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/callback` };
}

/** Starts the SDK's long connection with a `card.action.trigger` handler; resolves once it is connected. */
export async function connectLongConnection(
  domain: string,
  app: { app_id: string; app_secret: string },
  onCardAction: (data: CardAction) => object,
): Promise<lark.WSClient> {
  const dispatcher = new lark.EventDispatcher({}).register({
    "card.action.trigger": async (data: CardAction) => onCardAction(data),
  });
  let resolve = () => {};
  const connected = new Promise<void>((done) => {
    resolve = done;
  });
  const ws = new lark.WSClient({
    appId: app.app_id,
    appSecret: app.app_secret,
    domain,
    loggerLevel: lark.LoggerLevel.warn,
    onReady: () => resolve(),
  });
  await ws.start({ eventDispatcher: dispatcher });
  await connected;
  return ws;
}

function button(label: string, type: string, behavior: Record<string, unknown>) {
  return { tag: "button", text: { tag: "plain_text", content: label }, type, behaviors: [behavior] };
}

export function authorizeCard(authorizeUrl: string) {
  const column = (el: object) => ({ tag: "column", elements: [el] });
  return {
    schema: "2.0",
    config: { update_multi: true },
    header: {
      title: { tag: "plain_text", content: "Authorization required" },
      subtitle: { tag: "plain_text", content: "Calendar assistant" },
      template: "blue",
    },
    body: {
      elements: [
        {
          tag: "markdown",
          content:
            "To read your calendar, **Calendar bot** needs access to `calendar:calendar:read`.\n" +
            "<font color='grey'>The link expires in 10 minutes.</font>",
        },
        { tag: "hr" },
        {
          tag: "column_set",
          columns: [
            column(button("Authorize", "primary_filled", { type: "open_url", default_url: authorizeUrl })),
            column(
              button("Decline", "danger", { type: "callback", value: { action: "decline", state: STATE } }),
            ),
          ],
        },
      ],
    },
  };
}

export function declinedCard(authorizeUrl: string) {
  return {
    schema: "2.0",
    header: { title: { tag: "plain_text", content: "Authorization declined" }, template: "grey" },
    body: {
      elements: [
        { tag: "markdown", content: "*Nothing was shared.* Changed your mind?" },
        button("Authorize", "primary", { type: "open_url", default_url: authorizeUrl }),
      ],
    },
  };
}
