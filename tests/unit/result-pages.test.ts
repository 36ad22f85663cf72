import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DomainError, DomainErrorCode } from "../../src/domain/errors.js";
import { createOAuthCallbackRoute, type OAuthCallbackDeps } from "../../src/http/oauth-callback.js";
import { escapeHtml } from "../../src/http/pages/html.js";
import { type CallbackOutcome, renderResultPage } from "../../src/http/pages/result-page.js";

const OUTCOMES: CallbackOutcome[] = [
  "success",
  "declined",
  "expired",
  "already_used",
  "invalid",
  "user_mismatch",
  "failed",
  "error",
];

describe("result pages", () => {
  it.each(OUTCOMES)("%s: a complete page that says what to do next, with no script", (outcome) => {
    const { status, html } = renderResultPage(outcome);
    expect(status).toBeGreaterThanOrEqual(200);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`data-outcome="${outcome}"`);
    expect(html).toMatch(/class="next">[^<]*(close this tab|start again|try again)/i);
    expect(html).not.toMatch(/<script|javascript:|\son\w+=/i);
  });

  it("gives each outcome its own wording", () => {
    const titles = OUTCOMES.map((o) => /<h1>(.*)<\/h1>/.exec(renderResultPage(o).html)?.[1]);
    expect(new Set(titles).size).toBe(OUTCOMES.length);
  });

  it("escapes markup and quotes", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;");
  });
});

describe("GET /oauth/callback", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  /** Serves the route on a real node:http server and fetches `query` from it. */
  async function call(deps: Partial<OAuthCallbackDeps>, query: string, method = "GET") {
    const calls: unknown[] = [];
    const logged: unknown[] = [];
    const route = createOAuthCallbackRoute({
      completeRedirect: async (input) => {
        calls.push(["complete", input]);
        return { state: "AUTHORIZED" };
      },
      declineByState: async (state) => {
        calls.push(["decline", state]);
        return { state: "DECLINED" };
      },
      logger: { warn: (o: unknown) => logged.push(o), error: (o: unknown) => logged.push(o) } as never,
      ...deps,
    });
    server = createServer((req, res) => void route(req, res));
    await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/oauth/callback${query}`, { method });
    return { res, body: await res.text(), calls, logged };
  }

  const outcome = (body: string) => /data-outcome="([a-z_]+)"/.exec(body)?.[1];

  it("completes with the code and state and shows success, with protective headers", async () => {
    const { res, body, calls } = await call({}, "?code=c0de-SECRET&state=st4te-SECRET");
    expect(calls).toEqual([["complete", { code: "c0de-SECRET", state: "st4te-SECRET" }]]);
    expect(res.status).toBe(200);
    expect(outcome(body)).toBe("success");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    expect(res.headers.get("content-security-policy")).not.toMatch(/script-src/);
    expect(body).not.toMatch(/SECRET/);
  });

  it("declines on error=access_denied", async () => {
    const { body, calls } = await call({}, "?error=access_denied&state=s1");
    expect(calls).toEqual([["decline", "s1"]]);
    expect(outcome(body)).toBe("declined");
  });

  it.each([
    ["", "invalid"],
    ["?code=abc", "invalid"],
    ["?state=abc", "invalid"],
    [`?code=abc&state=${"x".repeat(600)}`, "invalid"],
    ["?error=server_error&error_description=%3Cscript%3E&state=s", "failed"],
  ])("%s -> %s without calling the domain when nothing can match", async (query, expected) => {
    const { body, calls, res } = await call({}, query);
    expect(outcome(body)).toBe(expected);
    expect(calls).toEqual([]);
    expect(body).not.toContain("<script>");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it.each([
    ["STATE_INVALID", "invalid", 400],
    ["STATE_ALREADY_USED", "already_used", 409],
    ["SESSION_NOT_PENDING", "already_used", 409],
    ["SESSION_EXPIRED", "expired", 410],
    ["LARK_UNAVAILABLE", "error", 503],
  ])("a domain refusal %s shows %s", async (code, expected, status) => {
    const fail = async () => {
      throw new DomainError(code as DomainErrorCode, `refused code=c0de-SECRET`);
    };
    const { res, body } = await call({ completeRedirect: fail }, "?code=c0de-SECRET&state=s");
    expect(res.status).toBe(status);
    expect(outcome(body)).toBe(expected);
    expect(body).not.toMatch(/SECRET|refused/);
  });

  it.each([
    ["EXPIRED", "expired", 410],
    ["DECLINED", "declined", 200],
    ["CANCELLED", "already_used", 409],
    [undefined, "already_used", 409],
  ])(
    "a session that ended as %s while its consent page was open shows %s",
    async (state, expected, status) => {
      const fail = async () => {
        throw new DomainError("SESSION_NOT_PENDING", "auth session s is over", {
          ...(state && { metadata: { session_id: "s", state } }),
        });
      };
      const { res, body } = await call({ completeRedirect: fail }, "?code=c&state=s");
      expect(res.status).toBe(status);
      expect(outcome(body)).toBe(expected);
    },
  );

  it.each([
    [{ state: "FAILED", failureReason: "USER_MISMATCH" }, "user_mismatch"],
    [{ state: "FAILED", failureReason: "CODE_EXPIRED" }, "failed"],
    [{ state: "EXPIRED" }, "expired"],
    [{ state: "CANCELLED" }, "already_used"],
    [{ state: "PENDING" }, "error"],
  ] as const)("a session left %j shows %s", async (result, expected) => {
    const { body } = await call({ completeRedirect: async () => result }, "?code=c&state=s");
    expect(outcome(body)).toBe(expected);
  });

  it("logs an unexpected failure and shows the retry page", async () => {
    const boom = async () => {
      throw new Error("database exploded");
    };
    const { res, body, logged } = await call({ completeRedirect: boom }, "?code=c&state=s");
    expect(res.status).toBe(503);
    expect(outcome(body)).toBe("error");
    expect(body).not.toContain("exploded");
    expect(logged).toHaveLength(1);
    expect(DomainErrorCode.LARK_UNAVAILABLE).toBe("LARK_UNAVAILABLE");
  });

  it("answers HEAD with headers only", async () => {
    const { res, body } = await call({}, "?code=c&state=s", "HEAD");
    expect(res.status).toBe(200);
    expect(body).toBe("");
  });
});
