/**
 * The emulator's chat page in a real browser. The real node-sdk sends a card through the emulator's Open
 * Platform API. A person opens the chat page in headless Chromium and clicks the card's callback button.
 * The callback reaches the app over the long connection (WSClient), and the app's toast and updated card
 * come back. The person then follows the Authorize link through the consent page to the app's redirect URL.
 */
import type { Server } from "node:http";
import * as lark from "@larksuiteoapi/node-sdk";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../src/emulator/index.js";
import { chromiumPath, skipBrowserTests } from "../support/browser.js";
import {
  authorizeCard,
  type CardAction,
  connectLongConnection,
  declinedCard,
  STATE,
  startRedirectTarget,
} from "./emulator-chat.fixtures.js";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const TOAST = "Declined — nothing was shared";

type Emulator = Awaited<ReturnType<typeof startEmulator>>;

describe.skipIf(skipBrowserTests())("emulator chat page (Chromium, real node-sdk, long connection)", () => {
  let emulator: Emulator;
  let redirect: { server: Server; url: string };
  let browser: Browser;
  let wsClient: lark.WSClient | undefined;
  let client: lark.Client;
  let app: { app_id: string; app_secret: string };
  let openId: string;
  const callbacks: CardAction[] = [];

  beforeAll(async () => {
    redirect = await startRedirectTarget();
    emulator = await startEmulator();
    app = await emulator.registerApp({ name: "Calendar bot", redirect_urls: [redirect.url] });
    const user = await emulator.createUser({ name: "Ada Lovelace", email: "ada@example.com" });
    openId = user.open_id;
    client = new lark.Client({ appId: app.app_id, appSecret: app.app_secret, domain: emulator.url });
    browser = await chromium.launch({ executablePath: chromiumPath() ?? "chromium", args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    wsClient?.close({ force: true });
    await emulator?.close();
    redirect?.server.close();
  });

  function authorizeUrl(): string {
    const query = new URLSearchParams({
      client_id: app.app_id,
      response_type: "code",
      redirect_uri: redirect.url,
      scope: "calendar:calendar:read offline_access",
      state: STATE,
    });
    return `${emulator.url}/open-apis/authen/v1/authorize?${query}`;
  }

  it("the app's long connection comes up", async () => {
    wsClient = await connectLongConnection(emulator.url, app, (data) => {
      callbacks.push(data);
      return {
        toast: { type: "success", content: TOAST },
        card: { type: "raw", data: declinedCard(authorizeUrl()) },
      };
    });
  });

  it("shows the card; Decline reaches the app and its toast and card come back; Authorize reaches the redirect", async () => {
    const messageId = await sendCard(client, openId, authorizeCard(authorizeUrl()));
    const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
    const page = await context.newPage();
    const pageErrors = collectErrors(page);
    await page.goto(`${emulator.url}/_emulator/ui/users/${encodeURIComponent(openId)}`);
    const card = page.getByTestId(`card-${messageId}`);
    await card.getByText("Authorization required").waitFor();
    expect(await card.getByTestId("card-header").getAttribute("class")).toContain("theme-blue");
    expect(await card.locator("strong").first().textContent()).toBe("Calendar bot");
    await page.screenshot({ path: "/tmp/emulator-chat.png", fullPage: true });

    // Decline: a callback over the long connection; the app's toast and updated card come back.
    await card.getByRole("button", { name: "Decline" }).click();
    const toast = page.getByTestId("toast");
    await toast.waitFor({ state: "visible" });
    expect(await toast.textContent()).toBe(TOAST);
    await card.getByText("Authorization declined").waitFor();
    expect(await card.getByTestId("card-header").getAttribute("class")).toContain("theme-grey");
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]?.action?.value).toEqual({ action: "decline", state: STATE });
    expect(callbacks[0]?.operator?.open_id).toBe(openId);
    await page.screenshot({ path: "/tmp/emulator-chat-declined.png", fullPage: true });

    // Authorize (on the updated card) opens the consent page in a new tab; approving redirects to the app.
    const [consent] = await Promise.all([
      context.waitForEvent("page"),
      card.getByRole("link", { name: "Authorize" }).click(),
    ]);
    await consent.getByTestId("consent").waitFor();
    expect(await consent.getByTestId("app-name").textContent()).toBe("Calendar bot");
    expect(await consent.getByTestId("scopes").textContent()).toContain("calendar:calendar:read");
    await consent.screenshot({ path: "/tmp/emulator-consent.png", fullPage: true });
    await consent.getByTestId("account").selectOption(openId);
    await Promise.all([consent.waitForURL(`${redirect.url}?**`), consent.getByTestId("authorize").click()]);
    const landed = new URL(consent.url());
    expect(landed.searchParams.get("state")).toBe(STATE);
    expect(landed.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(await consent.locator("#code").textContent()).toBe(landed.searchParams.get("code"));
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});

async function sendCard(client: lark.Client, openId: string, card: object): Promise<string> {
  const sent = await client.im.v1.message.create({
    params: { receive_id_type: "open_id" },
    data: { receive_id: openId, msg_type: "interactive", content: JSON.stringify(card) },
  });
  expect(sent.code).toBe(0);
  return sent.data?.message_id ?? "";
}

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  return errors;
}
