// The Node client against the real service in sandbox mode (the emulator, a real database), on both
// transports: authorizeAndWait across a broken event stream, and an authorization that ends declined.
import type { Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthSessionState } from "../../gen/lark/auth/v1/types_pb.js";
import {
  AuthorizationNotGrantedError,
  createLarkAuthClient,
  type LarkAuthClientOptions,
} from "../../src/client/index.js";
import { waitFor } from "../support/auth-flow.js";
import { decidePending } from "../support/client-sandbox.js";
import { DEV_CALLER_KEY, SANDBOX_APP_ID, type SandboxApp, startSandboxApp } from "../support/sandbox-app.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

let sb: SandboxApp;
beforeAll(async () => {
  sb = await startSandboxApp();
});
afterAll(async () => {
  await sb?.close();
});

/** Counts WatchAuthEvents calls and the messages they delivered, through the client's public interceptor option. */
function watchProbe() {
  const seen = { calls: 0, messages: 0 };
  const interceptor: Interceptor = (next) => async (req) => {
    const res = await next(req);
    if (!res.stream || req.method.name !== "WatchAuthEvents") return res;
    seen.calls++;
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        for await (const m of messages) {
          seen.messages++;
          yield m;
        }
      })(),
    };
  };
  return { seen, interceptor };
}

describe.each(["grpc", "connect"] as const)("authorizeAndWait over %s", (transport) => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(transport === "grpc" ? sb.app.grpcPort : sb.app.httpPort);
  });
  afterAll(async () => {
    await proxy?.close();
  });
  // Each transport asks for its own scope, so the second describe starts from no covering grant.
  const scope = transport === "grpc" ? "docx:document:readonly" : "drive:drive:readonly";
  const options = (extra: Partial<LarkAuthClientOptions> = {}): LarkAuthClientOptions => ({
    baseUrl: proxy.url,
    callerKey: DEV_CALLER_KEY,
    appId: SANDBOX_APP_ID,
    transport,
    ...extra,
  });

  it("resumes the event stream after it breaks and resolves with the AUTHORIZED session decided meanwhile", async () => {
    const alice = sb.openIdOf("alice");
    const probe = watchProbe();
    const client = createLarkAuthClient(options({ interceptors: [probe.interceptor] }));
    const outcome = client.authorizeAndWait(alice, [scope], { force: true });
    // The stream is open once it delivered something (from_oldest: at least SESSION_CREATED).
    await waitFor(() => probe.seen.messages > 0 || undefined, "the first message of the event stream");
    proxy.refuse(true);
    proxy.cut();
    // The user approves while the client cannot reach the service: the outcome must come from the resume.
    const sessionId = await decidePending(sb, alice, "approve");
    await sb.sessionIn(sessionId, AuthSessionState.AUTHORIZED);
    const refusedBefore = proxy.accepted();
    await waitFor(() => proxy.accepted() > refusedBefore || undefined, "a reconnect attempt");
    proxy.refuse(false);

    const result = await outcome;
    expect(result.alreadyAuthorized).toBe(false);
    expect(result.session?.sessionId).toBe(sessionId);
    expect(result.session?.state).toBe(AuthSessionState.AUTHORIZED);
    expect(result.session?.identity?.openId).toBe(alice);
    expect(probe.seen.calls).toBeGreaterThanOrEqual(2);
  });

  it("says alreadyAuthorized without a card when the grant covers the scopes", async () => {
    const client = createLarkAuthClient(options());
    const result = await client.authorizeAndWait({ openId: sb.openIdOf("alice") }, [scope]);
    expect(result).toEqual({ alreadyAuthorized: true });
  });

  it("rejects with AuthorizationNotGrantedError when the user declines", async () => {
    const bob = sb.openIdOf("bob");
    const client = createLarkAuthClient(options());
    const outcome = client.authorizeAndWait(bob, ["calendar:calendar:readonly"], { force: true });
    const settled = outcome.then(
      () => undefined,
      (err: unknown) => err,
    );
    await decidePending(sb, bob, "deny");
    const err = await settled;
    expect(err).toBeInstanceOf(AuthorizationNotGrantedError);
    expect((err as AuthorizationNotGrantedError).state).toBe(AuthSessionState.DECLINED);
    // The outcome's stream is cancelled, not left open: an open one keeps a caller's process alive.
    await waitFor(() => sb.app.events.stats().watchers === 0, "the server to see the watch end", 10_000);
  });
});
