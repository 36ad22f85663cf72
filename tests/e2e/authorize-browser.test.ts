/**
 * A person authorizing in a real browser: the service in sandbox mode (in-process emulator, demo users,
 * every port bound at start), a session started through a generated stub, then headless Chromium on the
 * emulator's chat page: the card, Authorize → Lark's consent page → our callback and its result page,
 * Decline over the long connection with its toast, and the pages an expired or already used link shows.
 * Screenshots go to a temp dir, removed afterwards unless LARK_AUTH_KEEP_SCREENSHOTS=1 (then its path
 * is printed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import { byOpenId } from "../support/auth-flow.js";
import { chromiumPath, skipBrowserTests } from "../support/browser.js";
import { SANDBOX_APP_ID, type SandboxApp, startSandboxApp } from "../support/sandbox-app.js";

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
const SCOPES = ["contact:user.base:readonly", "calendar:calendar:readonly"];
const keep = process.env.LARK_AUTH_KEEP_SCREENSHOTS === "1";

describe.skipIf(skipBrowserTests())("authorizing in a browser (sandbox, headless Chromium)", () => {
  let sb: SandboxApp;
  let browser: Browser;
  const shots = mkdtempSync(join(tmpdir(), "lark-auth-browser-"));
  const pageErrors: string[] = [];

  beforeAll(async () => {
    sb = await startSandboxApp();
    browser = await chromium.launch({ executablePath: chromiumPath() ?? "chromium", args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await sb?.close();
    if (keep) console.info(`screenshots kept in ${shots}`);
    else rmSync(shots, { recursive: true, force: true });
  });

  /** A fresh browser profile whose pages report script errors into `pageErrors`. */
  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
    context.on("page", (page) => {
      page.on("pageerror", (err) => pageErrors.push(`${page.url()}: ${err.message}`));
    });
    return context;
  }

  /** StartAuthorization through the generated stub; the session id and the delivered card's message id. */
  async function start(user: string, message?: string) {
    const { session } = await sb.auth.startAuthorization({
      appId: SANDBOX_APP_ID,
      user: byOpenId(user),
      scopes: SCOPES,
      ...(message && { message }),
    });
    const id = session?.sessionId ?? "";
    const card = await sb.cardFor(user, id);
    return { id, messageId: card.message_id, authorizeUrl: session?.authorizeUrl ?? "" };
  }

  /** The user's chat page in the emulator, and the card of `messageId` on it. */
  async function openChat(context: BrowserContext, openId: string, messageId: string) {
    const page = await context.newPage();
    await page.goto(`${sb.emulatorUrl}/_emulator/ui/users/${encodeURIComponent(openId)}`);
    const card = page.getByTestId(`card-${messageId}`);
    await card.getByText("Authorization request").waitFor();
    return { page, card };
  }

  /** Clicks the card's Authorize link: the consent page opens in a new tab, signed in as `openId`. */
  async function openConsent(context: BrowserContext, card: ReturnType<Page["getByTestId"]>, openId: string) {
    const [consent] = await Promise.all([
      context.waitForEvent("page"),
      card.getByRole("link", { name: "Authorize" }).click(),
    ]);
    await consent.getByTestId("consent").waitFor();
    expect(await consent.getByTestId("app-name").textContent()).toBe("Sandbox App");
    await consent.getByTestId("account").selectOption(openId);
    return consent;
  }

  /** Approves on the consent page and lands on our callback's result page. */
  async function approve(consent: Page) {
    await Promise.all([
      consent.waitForURL(`${sb.httpUrl}/oauth/callback?**`),
      consent.getByTestId("authorize").click(),
    ]);
    return consent.locator("main");
  }

  it("Authorize → consent → our callback → result page; the session is AUTHORIZED and the card says so", async () => {
    const alice = sb.openIdOf("alice");
    const { id, messageId } = await start(alice, "To put your meetings into the weekly report.");
    const context = await newContext();
    const { page, card } = await openChat(context, alice, messageId);
    // Who asks, what for, the permissions in words, and the two buttons.
    expect(await card.locator(".card-subtitle").textContent()).toBe("Sandbox App");
    const body = (await card.textContent()) ?? "";
    expect(body).toContain("Sandbox App asks for access to your Lark account.");
    expect(body).toContain("To put your meetings into the weekly report.");
    expect(body).toContain("Read your basic profile (name and avatar)");
    expect(body).toContain("Read your calendars and events");
    expect(body).toContain("Keep this access until you revoke it, without asking again");
    expect(body).not.toContain("contact:user.base:readonly");
    await expect(card.getByRole("link", { name: "Authorize" }).isVisible()).resolves.toBe(true);
    await expect(card.getByRole("button", { name: "Decline" }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(shots, "chat-card.png"), fullPage: true });

    const consent = await openConsent(context, card, alice);
    const result = await approve(consent);
    expect(await result.getAttribute("data-outcome")).toBe("success");
    expect(await result.locator("h1").textContent()).toBe("Authorization complete");
    expect(await result.textContent()).toContain("You can close this tab and return to Lark.");
    await consent.screenshot({ path: join(shots, "success.png"), fullPage: true });

    const done = await sb.sessionIn(id, S.AUTHORIZED);
    expect(done.identity?.openId).toBe(alice);
    // The chat page refreshes itself: the card now shows the result, with no buttons left.
    await card.getByText("Authorized", { exact: true }).waitFor({ timeout: 15_000 });
    expect(await card.getByTestId("card-header").getAttribute("class")).toContain("theme-green");
    expect(await card.getByRole("button").count()).toBe(0);
    await page.screenshot({ path: join(shots, "chat-authorized.png"), fullPage: true });

    // The same callback link again (reload): already used, and nothing changes.
    const again = await consent.reload();
    expect(again?.status()).toBe(409);
    expect(await consent.locator("main h1").textContent()).toBe("This link was already used");
    // The card's Authorize link of a finished session shows its result, not a new consent.
    const reopened = await context.newPage();
    await reopened.goto(`${sb.httpUrl}/oauth/authorize/${id}`);
    expect(await reopened.locator("main").getAttribute("data-outcome")).toBe("success");
    await sb.sessionIn(id, S.AUTHORIZED);
    await context.close();
  });

  it("Decline in the chat page: a toast, the card shows declined, the session is DECLINED", async () => {
    const bob = sb.openIdOf("bob");
    const { id, messageId } = await start(bob);
    const context = await newContext();
    const { page, card } = await openChat(context, bob, messageId);
    await card.getByRole("button", { name: "Decline" }).click();
    const toast = page.getByTestId("toast");
    await toast.waitFor({ state: "visible" });
    expect(await toast.textContent()).toBe("You declined the request.");
    await card.getByText("Declined", { exact: true }).waitFor();
    expect(await card.textContent()).toContain(
      "You declined. Sandbox App did not get access to your account.",
    );
    expect(await card.getByRole("link", { name: "Authorize" }).count()).toBe(0);
    await sb.sessionIn(id, S.DECLINED);
    await page.screenshot({ path: join(shots, "chat-declined.png"), fullPage: true });
    await context.close();
  });

  it("a link that expired while the consent page was open: the expired page, and the card says so", async () => {
    const bob = sb.openIdOf("bob");
    const { id, messageId, authorizeUrl } = await start(bob);
    const context = await newContext();
    const { page, card } = await openChat(context, bob, messageId);
    const consent = await openConsent(context, card, bob);
    // The person lingers past the session's expiry; the sweeper ends it.
    await sb.db
      .em()
      .execute("update auth_session set expire_time = create_time + interval '1 millisecond' where id = ?", [
        id,
      ]);
    await sb.sessionIn(id, S.EXPIRED);
    const result = await approve(consent);
    expect(await result.getAttribute("data-outcome")).toBe("expired");
    expect(await result.locator("h1").textContent()).toBe("This request has expired");
    expect(await result.textContent()).toContain("Ask the requesting app to start again");
    await consent.screenshot({ path: join(shots, "expired.png"), fullPage: true });
    // The card's Authorize link now answers the same page; the card shows the expiry.
    const reopened = await context.newPage();
    const answer = await reopened.goto(authorizeUrl);
    expect(answer?.status()).toBe(410);
    expect(await reopened.locator("main").getAttribute("data-outcome")).toBe("expired");
    await card.getByText("Request expired", { exact: true }).waitFor({ timeout: 15_000 });
    await sb.sessionIn(id, S.EXPIRED);
    await page.close();
    await context.close();
    expect(pageErrors).toEqual([]);
  });
});
