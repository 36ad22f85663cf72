// The Node client's larkFetch, typed errors and retries against the real service in sandbox mode (the
// emulator, a real database), on both transports. Connections go through a TCP proxy that can refuse
// them, so retries are seen as connection attempts.
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthorizationRequiredError,
  createLarkAuthClient,
  LarkApiError,
  type LarkAuthClient,
  LarkAuthError,
} from "../../src/client/index.js";
import { addFault, callsTo, decidePending } from "../support/client-sandbox.js";
import { DEV_CALLER_KEY, SANDBOX_APP_ID, type SandboxApp, startSandboxApp } from "../support/sandbox-app.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

const USER_INFO = "/open-apis/authen/v1/user_info";
const TOKEN_PATH = "/open-apis/authen/v2/oauth/token";

let sb: SandboxApp;
beforeAll(async () => {
  sb = await startSandboxApp();
});
afterAll(async () => {
  await sb?.close();
});

/** Rejection of `promise`, failing when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (err: unknown) => err,
  );
}

describe.each(["grpc", "connect"] as const)("the client over %s", (transport) => {
  let proxy: TcpProxy;
  let client: LarkAuthClient;
  let alice: string;
  /** A client with no connection open yet, so its first call opens one through the proxy. */
  const freshClient = () =>
    createLarkAuthClient({
      baseUrl: proxy.url,
      callerKey: DEV_CALLER_KEY,
      appId: SANDBOX_APP_ID,
      transport,
      larkBaseUrl: sb.emulatorUrl,
    });
  beforeAll(async () => {
    proxy = await startTcpProxy(transport === "grpc" ? sb.app.grpcPort : sb.app.httpPort);
    client = freshClient();
    alice = sb.openIdOf("alice");
    const granted = client.authorizeAndWait(alice, ["contact:user.base:readonly"], { force: true });
    await decidePending(sb, alice, "approve");
    await granted;
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it("larkFetch calls Lark as the user", async () => {
    const res = await client.larkFetch(alice, USER_INFO);
    const body = (await res.json()) as { code: number; data: { open_id: string } };
    expect(res.status).toBe(200);
    expect(body.code).toBe(0);
    expect(body.data.open_id).toBe(alice);
  });

  it("larkFetch refreshes once on Lark's token-expired answer and retries", async () => {
    await addFault(sb, { path: USER_INFO, code: 99991677, count: 1 });
    const [calls, refreshes] = [await callsTo(sb, USER_INFO), await callsTo(sb, TOKEN_PATH)];
    const res = await client.larkFetch(alice, USER_INFO);
    const body = (await res.json()) as { code: number; data: { open_id: string } };
    expect(body.code).toBe(0);
    expect(body.data.open_id).toBe(alice);
    expect(await callsTo(sb, USER_INFO)).toBe(calls + 2);
    expect(await callsTo(sb, TOKEN_PATH)).toBe(refreshes + 1);
  });

  it("larkFetch refreshes only once: a second refusal is a LarkApiError without the token", async () => {
    await addFault(sb, { path: USER_INFO, code: 99991677, count: 2 });
    const refreshes = await callsTo(sb, TOKEN_PATH);
    const err = await rejection(client.larkFetch(alice, USER_INFO));
    expect(err).toBeInstanceOf(LarkApiError);
    expect((err as LarkApiError).larkCode).toBe(99991677);
    expect((err as LarkApiError).status).toBe(400);
    expect(await callsTo(sb, TOKEN_PATH)).toBe(refreshes + 1);
    const { token } = await client.token.getUserAccessToken({
      appId: SANDBOX_APP_ID,
      user: { id: { case: "openId", value: alice } },
    });
    const text = `${String(err)} ${(err as Error).stack} ${JSON.stringify(err)}`;
    expect(token?.accessToken).toBeTruthy();
    expect(text).not.toContain(token?.accessToken);
    expect(text).not.toContain(DEV_CALLER_KEY);
  });

  it("larkFetch never sends the token to another origin", async () => {
    const calls = await callsTo(sb, USER_INFO);
    const err = await rejection(client.larkFetch(alice, "http://127.0.0.1:9/open-apis/authen/v1/user_info"));
    expect(err).toBeInstanceOf(TypeError);
    expect(await callsTo(sb, USER_INFO)).toBe(calls);
  });

  it("a user without a grant: AuthorizationRequiredError, or with the option, an authorization first", async () => {
    const bob = sb.openIdOf("bob");
    const err = await rejection(client.larkFetch(bob, USER_INFO));
    expect(err).toBeInstanceOf(AuthorizationRequiredError);
    expect((err as AuthorizationRequiredError).code).toBe(Code.FailedPrecondition);
    expect((err as AuthorizationRequiredError).reason).toBe("AUTHORIZATION_REQUIRED");

    const res = client.larkFetch(bob, USER_INFO, {
      scopes: ["contact:user.base:readonly"],
      onAuthorizationRequired: "authorize",
    });
    await decidePending(sb, bob, "approve");
    const body = (await (await res).json()) as { data: { open_id: string } };
    expect(body.data.open_id).toBe(bob);
    // Leave bob without a grant for the other transport's run.
    const revoked = await client.token.revokeUserAuthorization({
      appId: SANDBOX_APP_ID,
      user: { id: { case: "openId", value: bob } },
    });
    expect(revoked.revoked).toBe(true);
  });

  it("typed errors carry the code and ErrorInfo.reason, never the caller key", async () => {
    const stranger = createLarkAuthClient({
      baseUrl: proxy.url,
      callerKey: "lak_not_a_configured_key_000000000000",
      appId: SANDBOX_APP_ID,
      transport,
    });
    const denied = await rejection(stranger.auth.listAuthSessions({ appId: SANDBOX_APP_ID }));
    expect(denied).toBeInstanceOf(LarkAuthError);
    expect((denied as LarkAuthError).code).toBe(Code.Unauthenticated);
    expect(`${String(denied)} ${(denied as Error).stack}`).not.toContain("lak_not_a_configured_key");

    const missing = await rejection(
      client.auth.getAuthSession({ sessionId: "00000000-0000-4000-8000-000000000000" }),
    );
    expect((missing as LarkAuthError).code).toBe(Code.NotFound);
    expect((missing as LarkAuthError).reason).toBe("SESSION_NOT_FOUND");
  });

  it("retries a read-only call through refused connections", async () => {
    proxy.refuseNext(2);
    const before = proxy.accepted();
    const { sessions } = await freshClient().auth.listAuthSessions({ appId: SANDBOX_APP_ID });
    expect(sessions.length).toBeGreaterThan(0);
    expect(proxy.accepted() - before).toBe(3);
  });

  it("retries StartAuthorization only with an idempotency key", async () => {
    const request = { appId: SANDBOX_APP_ID, user: { id: { case: "openId" as const, value: alice } } };
    proxy.refuseNext(1);
    let before = proxy.accepted();
    const err = await rejection(
      freshClient().auth.startAuthorization({ ...request, scopes: ["drive:drive:readonly"] }),
    );
    expect(err).toBeInstanceOf(LarkAuthError);
    expect([Code.Unavailable, Code.Aborted, Code.Canceled]).toContain((err as LarkAuthError).code);
    expect(proxy.accepted() - before).toBe(1);

    proxy.refuseNext(1);
    before = proxy.accepted();
    const started = await freshClient().auth.startAuthorization({
      ...request,
      scopes: ["drive:drive:readonly"],
      idempotencyKey: `client-test-${transport}`,
    });
    expect(started.session?.sessionId).toBeTruthy();
    expect(proxy.accepted() - before).toBe(2);
    await client.auth.cancelAuthSession({ sessionId: started.session?.sessionId ?? "" });
  });

  it("never retries a call that changes state (RefreshUserAccessToken)", async () => {
    proxy.refuseNext(1);
    const before = proxy.accepted();
    const err = await rejection(
      freshClient().token.refreshUserAccessToken({
        appId: SANDBOX_APP_ID,
        user: { id: { case: "openId", value: alice } },
      }),
    );
    expect(err).toBeInstanceOf(LarkAuthError);
    expect([Code.Unavailable, Code.Aborted, Code.Canceled]).toContain((err as LarkAuthError).code);
    expect(proxy.accepted() - before).toBe(1);
  });
});
