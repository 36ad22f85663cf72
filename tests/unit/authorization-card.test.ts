import { describe, expect, it } from "vitest";
import { callbackButtons } from "../../src/emulator/cards/buttons.js";
import { renderCard } from "../../src/emulator/pages/index.js";
import { type AuthorizationCardInput, authorizationCard } from "../../src/lark/cards/authorization-card.js";
import { type CardOutcome, resultCard } from "../../src/lark/cards/result-card.js";

const base: AuthorizationCardInput = {
  sessionId: "0b7f3a6e-1111-4222-8333-944455556666",
  appName: "Expenses",
  purpose: "Files your travel receipts.",
  scopes: ["offline_access", "calendar:calendar:readonly", "contact:user.email:readonly", "x:custom:scope"],
  style: "detailed",
  authorizeUrl: "https://accounts.feishu.cn/open-apis/authen/v1/authorize?client_id=cli_1&state=s",
  expiresAt: new Date("2030-01-02T03:04:05Z"),
};

const json = (value: unknown) => JSON.stringify(value);
const html = (card: unknown) => renderCard(card, "om_1").value;

describe("authorization card", () => {
  it("is a JSON 2.0 card with the app, its purpose and every permission in words", () => {
    const card = authorizationCard(base);
    expect(card).toMatchObject({ schema: "2.0", config: { update_multi: true } });
    const text = json(card);
    expect(text).toContain("Expenses");
    expect(text).toContain("Files your travel receipts.");
    expect(text).toContain("Read your calendars and events");
    expect(text).toContain("Read your email address");
    expect(text).toContain("x:custom:scope");
    expect(text).toContain("Keep this access until you revoke it");
  });

  it("has an Authorize button opening the URL and a Decline callback carrying the session", () => {
    const card = authorizationCard(base);
    expect(callbackButtons(card)).toEqual([
      { value: { action: "decline", session_id: base.sessionId }, tag: "button" },
    ]);
    const page = html(card);
    expect(page).toContain('data-kind="open_url"');
    expect(page).toContain("authen/v1/authorize");
    expect(page).toContain('data-kind="callback"');
    expect(page).not.toContain("not shown by the emulator");
  });

  it("says the permissions in one sentence when concise", () => {
    const card = authorizationCard({
      ...base,
      style: "concise",
      scopes: ["a:1", "b:2", "c:3", "d:4", "contact:user.email:readonly", "offline_access"],
    });
    const text = json(card);
    expect(text).toContain("Expenses asks to act on your behalf: a:1, b:2, c:3 and 2 more.");
    expect(text).not.toContain("Read your email address");
  });

  it("shows the custom message, a safe privacy link and a device user code", () => {
    const card = authorizationCard({
      ...base,
      customMessage: "Needed for the **Q3** audit [click](javascript:alert(1))",
      privacyUrl: "https://example.com/privacy(v2)",
      userCode: "ABCD-EFGH",
    });
    const text = json(card);
    // Caller text is plain_text, so its markdown stays inert.
    expect(card).toMatchObject({
      body: {
        elements: expect.arrayContaining([
          {
            tag: "div",
            text: expect.objectContaining({ tag: "plain_text", content: expect.stringContaining("**Q3**") }),
          },
        ]),
      },
    });
    expect(text).toContain("[Privacy policy](https://example.com/privacy%28v2%29)");
    expect(text).toContain("ABCD-EFGH");
    expect(json(authorizationCard({ ...base, privacyUrl: "javascript:alert(1)" }))).not.toContain(
      "Privacy policy",
    );
  });

  it("is replaced by a template when a template id is configured", () => {
    const card = authorizationCard({ ...base, templateId: "AAqk1234" });
    expect(card).toEqual({
      type: "template",
      data: {
        template_id: "AAqk1234",
        template_variable: expect.objectContaining({
          session_id: base.sessionId,
          app_name: "Expenses",
          authorize_url: base.authorizeUrl,
          scopes: "calendar:calendar:readonly contact:user.email:readonly x:custom:scope offline_access",
        }),
      },
    });
  });
});

describe("result cards", () => {
  const outcomes: CardOutcome[] = [
    { state: "authorized" },
    { state: "declined" },
    { state: "expired" },
    { state: "cancelled" },
    { state: "superseded" },
    { state: "failed" },
    { state: "failed", reason: "user_mismatch" },
  ];

  it.each(outcomes)("$state $reason: says what happened, names the app and has no buttons", (outcome) => {
    const card = resultCard("Expenses", outcome);
    expect(card).toMatchObject({ schema: "2.0", header: { subtitle: { content: "Expenses" } } });
    expect(json(card)).not.toContain('"button"');
    expect(html(card)).not.toContain("<button");
  });

  it("explains a user mismatch differently from other failures", () => {
    const mismatch = json(resultCard("Expenses", { state: "failed", reason: "user_mismatch" }));
    expect(mismatch).toContain("different Lark account");
    expect(json(resultCard("Expenses", { state: "failed" }))).not.toContain("different Lark account");
    expect(resultCard("Expenses", { state: "authorized" })).toMatchObject({ header: { template: "green" } });
  });
});
