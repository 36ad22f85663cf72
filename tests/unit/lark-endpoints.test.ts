import * as lark from "@larksuiteoapi/node-sdk";
import { describe, expect, it } from "vitest";
import { authorizeUrl, resolveEndpoints } from "../../src/lark/endpoints.js";

const req = {
  redirectUri: "https://svc.example.com/oauth/callback",
  scopes: ["a:b", "c:d"],
  state: "st",
  codeChallenge: "ch",
};

describe("Lark endpoints", () => {
  it("maps feishu and lark to the SDK's domains and their accounts hosts", () => {
    expect(resolveEndpoints("feishu")).toEqual({
      sdkDomain: lark.Domain.Feishu,
      openBase: "https://open.feishu.cn",
      accountsBase: "https://accounts.feishu.cn",
    });
    expect(resolveEndpoints("lark")).toMatchObject({
      sdkDomain: lark.Domain.Lark,
      accountsBase: "https://accounts.larksuite.com",
    });
  });

  it("uses a base URL for everything, without a trailing slash, keeping its path", () => {
    expect(resolveEndpoints("http://127.0.0.1:8090/")).toEqual({
      sdkDomain: "http://127.0.0.1:8090",
      openBase: "http://127.0.0.1:8090",
      accountsBase: "http://127.0.0.1:8090",
    });
    expect(resolveEndpoints("https://lark.corp.example/gw").openBase).toBe("https://lark.corp.example/gw");
    expect(() => resolveEndpoints("ftp://x")).toThrow();
  });

  it("builds the consent URL on the accounts host with offline_access once and PKCE S256", () => {
    const url = authorizeUrl(resolveEndpoints("feishu"), "cli_0123456789abcdef", {
      ...req,
      scopes: ["a:b", "offline_access", "c:d"],
    });
    expect(url.startsWith("https://accounts.feishu.cn/open-apis/authen/v1/authorize?")).toBe(true);
    expect(url).toContain("scope=a%3Ab%20offline_access%20c%3Ad");
    expect(url).not.toContain("+");
    const params = new URL(url).searchParams;
    expect(params.get("code_challenge_method")).toBe("S256");
    expect(params.get("redirect_uri")).toBe(req.redirectUri);
    expect(authorizeUrl(resolveEndpoints("https://lark.corp.example/gw"), "cli_1", req)).toMatch(
      /^https:\/\/lark\.corp\.example\/gw\/open-apis\/authen\/v1\/authorize\?/,
    );
  });
});
