// Sandbox mode with every port chosen at bind time: the sandbox app's registered redirect URL is the
// bound callback URL (not `:0`), so a demo user's authorization completes end to end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import { authorizeButtonUrl, byOpenId, callback, consentUrl } from "../support/auth-flow.js";
import { SANDBOX_APP_ID, type SandboxApp, startSandboxApp } from "../support/sandbox-app.js";

let sb: SandboxApp;
beforeAll(async () => {
  sb = await startSandboxApp();
});
afterAll(async () => {
  await sb?.close();
});

describe("sandbox on port 0", () => {
  it("registers the bound callback URL with the emulator's sandbox app", async () => {
    const res = await fetch(`${sb.emulatorUrl}/_emulator/apps`);
    const { apps } = (await res.json()) as { apps: { app_id: string; redirect_urls: string[] }[] };
    const app = apps.find((a) => a.app_id === SANDBOX_APP_ID);
    expect(app?.redirect_urls).toEqual([`http://127.0.0.1:${sb.app.httpPort}/oauth/callback`]);
  });

  it("authorizes Alice: card, redirector, consent, callback on the bound port, AUTHORIZED", async () => {
    const alice = sb.openIdOf("alice");
    const { session } = await sb.auth.startAuthorization({
      appId: SANDBOX_APP_ID,
      user: byOpenId(alice),
      scopes: ["contact:user.base:readonly"],
    });
    const id = session?.sessionId ?? "";
    expect(session?.authorizeUrl).toBe(`http://127.0.0.1:${sb.app.httpPort}/oauth/authorize/${id}`);
    const card = await sb.cardFor(alice, id);
    const consent = await consentUrl(authorizeButtonUrl(card.card));
    const redirect = await sb.decide(consent, alice, "approve");
    expect(redirect.startsWith(`http://127.0.0.1:${sb.app.httpPort}/oauth/callback?`)).toBe(true);
    expect((await callback(redirect)).html).toContain("Authorization complete");
    const done = await sb.sessionIn(id, S.AUTHORIZED);
    expect(done.identity?.openId).toBe(alice);
  });
});
