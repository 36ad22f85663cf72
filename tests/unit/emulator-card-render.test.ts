import { describe, expect, it } from "vitest";
import { callbackButtons, sameJson } from "../../src/emulator/cards/buttons.js";
import { renderCard, renderMarkdown } from "../../src/emulator/pages/index.js";

const render = (card: unknown, id = "om_1") => renderCard(card, id).value;

const card2 = {
  schema: "2.0",
  config: { update_multi: true },
  header: {
    title: { tag: "plain_text", content: "Authorization required" },
    subtitle: { tag: "plain_text", content: "calendar" },
    template: "blue",
  },
  body: {
    elements: [
      {
        tag: "markdown",
        content: "Grant **calendar:read** to *continue*.\n<font color='grey'>expires soon</font>",
      },
      { tag: "hr" },
      {
        tag: "column_set",
        columns: [
          {
            tag: "column",
            elements: [
              {
                tag: "button",
                text: { tag: "plain_text", content: "Authorize" },
                type: "primary_filled",
                behaviors: [
                  {
                    type: "open_url",
                    default_url: "http://127.0.0.1:9/open-apis/authen/v1/authorize?a=1&b=2",
                  },
                ],
              },
            ],
          },
          {
            tag: "column",
            elements: [
              {
                tag: "button",
                text: { tag: "plain_text", content: "Decline" },
                behaviors: [{ type: "callback", value: { action: "decline", state: "s1" } }],
              },
            ],
          },
        ],
      },
    ],
  },
};

const card1 = {
  config: { wide_screen_mode: true },
  header: { title: { tag: "plain_text", content: "Old card" }, template: "red" },
  elements: [
    { tag: "div", text: { tag: "lark_md", content: "**Hello** [docs](https://open.feishu.cn/doc)" } },
    { tag: "div", text: { tag: "plain_text", content: "a < b" } },
    {
      tag: "action",
      actions: [
        {
          tag: "button",
          text: { tag: "plain_text", content: "Open" },
          multi_url: { url: "https://example.com/x" },
        },
        { tag: "button", text: { tag: "plain_text", content: "Ack" }, type: "primary", value: { op: "ack" } },
      ],
    },
  ],
};

describe("renderCard — JSON 2.0", () => {
  const out = render(card2, "om_abc");

  it("renders the header with its colour theme and hooks", () => {
    expect(out).toContain('data-testid="card-om_abc"');
    expect(out).toContain('data-message-id="om_abc"');
    expect(out).toContain("theme-blue");
    expect(out).toContain("Authorization required");
    expect(out).toContain('class="card-subtitle">calendar<');
  });

  it("renders markdown: bold, italics, line breaks and font colours", () => {
    expect(out).toContain("<strong>calendar:read</strong>");
    expect(out).toContain("<em>continue</em>");
    expect(out).toMatch(/continue<\/em>\.<br><span style="color:#646a73">expires soon<\/span>/);
    expect(out).toContain('<hr class="card-hr">');
    expect(out).toContain('class="columns"');
  });

  it("renders an open_url button as a link to the URL", () => {
    expect(out).toMatch(
      /<a class="btn btn-primary_filled" data-testid="button" data-kind="open_url" href="http:\/\/127\.0\.0\.1:9\/open-apis\/authen\/v1\/authorize\?a=1&amp;b=2" target="_blank" rel="noopener">Authorize<\/a>/,
    );
  });

  it("renders a callback button carrying its value as JSON", () => {
    expect(out).toContain('data-kind="callback"');
    expect(out).toContain(
      'data-callback data-value="{&quot;action&quot;:&quot;decline&quot;,&quot;state&quot;:&quot;s1&quot;}"',
    );
    expect(out).toMatch(/<button [^>]*type="button"[^>]*>Decline<\/button>/);
  });

  it("posts the value the emulator matches clicks against, also for a callback without a value", () => {
    const card = {
      schema: "2.0",
      body: {
        elements: [
          { tag: "button", text: { tag: "plain_text", content: "Go" }, behaviors: [{ type: "callback" }] },
        ],
      },
    };
    const posted = /data-value="([^"]*)"/.exec(render(card))?.[1]?.replaceAll("&quot;", '"');
    expect(posted).toBeDefined();
    const [button] = callbackButtons(card);
    expect(sameJson(JSON.parse(posted ?? ""), button?.value)).toBe(true);
  });

  it("accepts the card as a JSON string", () => {
    expect(render(JSON.stringify(card2))).toContain("Authorization required");
  });
});

describe("renderCard — JSON 1.0", () => {
  const out = render(card1);

  it("renders top-level elements, div text and the header theme", () => {
    expect(out).toContain("theme-red");
    expect(out).toContain("<strong>Hello</strong>");
    expect(out).toContain(
      '<a href="https://open.feishu.cn/doc" target="_blank" rel="noopener noreferrer">docs</a>',
    );
    expect(out).toContain('<span class="plain">a &lt; b</span>');
  });

  it("renders multi_url buttons as links and value buttons as callbacks", () => {
    expect(out).toMatch(/<a [^>]*data-kind="open_url" href="https:\/\/example\.com\/x"[^>]*>Open<\/a>/);
    expect(out).toMatch(
      /<button class="btn btn-primary"[^>]*data-value="{&quot;op&quot;:&quot;ack&quot;}"[^>]*>Ack/,
    );
  });

  it("opens the target of an AppLink web_url wrapper directly", () => {
    const target = "http://127.0.0.1:5/device?user_code=AB-CD";
    const applink = `https://applink.feishu.cn/client/web_url/open?mode=sidebar-semi&url=${encodeURIComponent(target)}`;
    const html = render({ elements: [{ tag: "button", text: "Go", multi_url: { url: applink } }] });
    expect(html).toContain('href="http://127.0.0.1:5/device?user_code=AB-CD"');
  });
});

describe("renderCard — untrusted content", () => {
  it("escapes markup in titles, text, markdown and button labels", () => {
    const evil = '<script>alert("x")</script>';
    const out = render({
      header: { title: { content: evil }, template: '"><img src=x onerror=alert(1)>' },
      elements: [
        { tag: "markdown", content: `${evil} **<b>x</b>** <font color="red' onmouseover='x">y</font>` },
        { tag: "button", text: { content: evil }, value: evil },
      ],
    });
    expect(out).not.toContain("<script>");
    expect(out).not.toContain("<img");
    expect(out).not.toContain("<b>");
    expect(out).not.toMatch(/<[^>]*\son\w+=/);
    expect(out).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(out).toContain("theme-default");
  });

  it("ignores colour names that are Object.prototype members", () => {
    const markup = render({
      header: { title: { tag: "plain_text", content: "t" }, template: "constructor" },
      elements: [
        { tag: "markdown", content: "<font color='constructor'>a</font> <font color='__proto__'>b</font>" },
      ],
    });
    expect(markup).toContain("theme-default");
    expect(markup).not.toContain("theme-constructor");
    expect(markup).not.toMatch(/color:(function|\[object)/);
  });

  it("never turns javascript: or data: URLs into links", () => {
    const out = render({
      elements: [
        { tag: "markdown", content: "[click](javascript:alert(1)) [d](data:text/html,x)" },
        { tag: "button", text: "Bad", behaviors: [{ type: "open_url", default_url: "javascript:alert(1)" }] },
      ],
    });
    expect(out).not.toContain("href");
    expect(out).toMatch(
      /<button [^>]*data-kind="inert"[^>]*title="This link cannot be opened in the emulator"/,
    );
  });

  it("shows unknown elements and non-objects as placeholders, and survives deep nesting", () => {
    let deep: unknown = { tag: "markdown", content: "bottom" };
    for (let i = 0; i < 50; i += 1) deep = { tag: "form", elements: [deep] };
    expect(render({ elements: [{ tag: "select_static" }, 42, deep] })).toContain(
      "[select_static — not shown",
    );
    expect(render("not json")).toContain("[empty card]");
    expect(render(null)).toContain("[empty card]");
  });
});

describe("renderMarkdown", () => {
  it("renders lists, headings, code and bare links", () => {
    const out = renderMarkdown("# Title\n- one\n- two\n\nsee https://example.com/a. `x<y`").value;
    expect(out).toContain('<div class="md-h">Title</div>');
    expect(out).toContain("<ul><li>one</li><li>two</li></ul>");
    expect(out).toContain(
      '<a href="https://example.com/a" target="_blank" rel="noopener noreferrer">https://example.com/a</a>.',
    );
    expect(out).toContain("<code>x&lt;y</code>");
  });
});
