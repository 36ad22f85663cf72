import { describe, expect, it } from "vitest";
import {
  renderChatPage,
  renderConsentPage,
  renderDeviceVerifyPage,
  renderResultPage,
  renderUsersPage,
} from "../../src/emulator/pages/index.js";

const user = { open_id: "ou_1", name: "Ada <Admin>", email: "ada@example.com" };
const bob = { open_id: "ou_2", name: "Bob" };
const app = { app_id: "cli_0123456789abcdef", name: "Bot & Co" };
const card = (title: string) => ({ header: { title: { content: title } }, elements: [] });

describe("chat page", () => {
  const page = renderChatPage({
    user,
    users: [user, bob],
    messages: [
      { message_id: "om_a", msg_type: "interactive", create_time: "1700000000000", card: card("first") },
      {
        message_id: "om_b",
        msg_type: "interactive",
        create_time: "1700000001000",
        card: card("second"),
        updated: true,
      },
      { message_id: "om_c", msg_type: "text", create_time: "1700000002000", card: { text: "hi <there>" } },
    ],
  });

  it("is a complete document with messages newest last, times and an updated badge", () => {
    expect(page.startsWith("<!doctype html>")).toBe(true);
    expect(page.indexOf("card-om_a")).toBeLessThan(page.indexOf("card-om_b"));
    expect(page).toContain("2023-11-14 22:13:21 UTC");
    expect(page.match(/data-testid="updated"/g)).toHaveLength(1);
    expect(page).toContain('<div class="plain-msg">hi &lt;there&gt;</div>');
  });

  it("knows its user, links the other chats, escapes names and carries the action script", () => {
    expect(page).toContain('data-open-id="ou_1"');
    expect(page).toContain('href="/_emulator/ui/users/ou_2"');
    expect(page).toContain("Ada &lt;Admin&gt;");
    expect(page).toContain('data-testid="toast"');
    expect(page).toContain("/_emulator/cards/");
    expect(page).toContain("operator_open_id");
  });

  it("loads nothing from elsewhere", () => {
    expect(page).not.toMatch(/<(img|iframe|script src)\b|<link (?!rel="icon" href="data:,">)|\ssrc=/);
  });

  it("says so when there are no messages", () => {
    expect(renderChatPage({ user, users: [user], messages: [] })).toContain('data-testid="no-messages"');
  });
});

describe("consent and device pages", () => {
  const consent = {
    app,
    scopes: ["calendar:calendar:read", "offline_access"],
    users: [user, bob],
    formAction: "/open-apis/authen/v1/authorize",
    hidden: { state: 'a"b', client_id: app.app_id },
  };

  it("consent page posts the hidden fields, the account and the decision", () => {
    const page = renderConsentPage(consent);
    expect(page).toContain('<form method="post" action="/open-apis/authen/v1/authorize">');
    expect(page).toContain('<input type="hidden" name="state" value="a&quot;b">');
    expect(page).toContain('<select id="open_id" name="open_id" data-testid="account" required>');
    expect(page).toContain('<option value="" selected disabled>');
    expect(page).toMatch(/name="decision" value="approve"/);
    expect(page).toMatch(/name="decision" value="deny"/);
    expect(page).toContain("<code>offline_access</code>");
    expect(page).toContain("Bot &amp; Co");
  });

  it("preselects the signed-in user and disables Authorize when there is nobody to sign in as", () => {
    expect(renderConsentPage({ ...consent, currentUser: bob })).toContain(
      '<option value="ou_2" selected>Bob</option>',
    );
    const empty = renderConsentPage({ ...consent, users: [] });
    expect(empty).toContain('data-testid="no-users"');
    expect(empty).toMatch(/data-testid="authorize" disabled/);
  });

  it("device page confirms a known code or asks for one, and shows errors", () => {
    const known = renderDeviceVerifyPage({ ...consent, userCode: "ABCD-EFGH" });
    expect(known).toContain('<input type="hidden" name="user_code" value="ABCD-EFGH">');
    const ask = renderDeviceVerifyPage({ ...consent, error: "Unknown <code>" });
    expect(ask).toContain('name="user_code" data-testid="user-code-input" required');
    expect(ask).toContain("Unknown &lt;code&gt;");
  });
});

describe("result and users pages", () => {
  it("result page shows the outcome", () => {
    const page = renderResultPage({ title: "Error 20027", message: "scope <x> not enabled", ok: false });
    expect(page).toContain('data-ok="false"');
    expect(page).toContain("scope &lt;x&gt; not enabled");
  });

  it("users page links each user's chat", () => {
    const page = renderUsersPage([user, bob]);
    expect(page).toContain('<a href="/_emulator/ui/users/ou_1">Ada &lt;Admin&gt;</a>');
    expect(renderUsersPage([])).toContain("No users yet");
  });
});
