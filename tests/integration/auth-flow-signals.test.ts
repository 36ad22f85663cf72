// What a committed authorization wakes in this process, on both databases: event watchers get the
// outcome without waiting for a poll, and a cached token of a re-authorized user is dropped at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthEventType } from "../../gen/lark/auth/v1/types_pb.js";
import {
  authorizeButtonUrl,
  byOpenId,
  callback,
  cardFor,
  consentUrl,
  decide,
  type FlowEnv,
  newUser,
  startFlowEnv,
} from "../support/auth-flow.js";
import { TEST_APP_ID } from "../support/test-app.js";

let env: FlowEnv;
beforeAll(async () => {
  // A poll far longer than the test: only a wake-up can deliver events in time.
  env = await startFlowEnv("redirect", { events: { pollIntervalMs: 600_000 } });
});
afterAll(async () => {
  await env?.close();
});

async function authorize(openId: string, force = false) {
  const { auth } = env.t.clients();
  const { session } = await auth.startAuthorization({
    appId: TEST_APP_ID,
    user: byOpenId(openId),
    scopes: ["contact:user.base:readonly"],
    force,
  });
  const id = session?.sessionId ?? "";
  const card = await cardFor(env.emulator, openId, id);
  const consent = await consentUrl(authorizeButtonUrl(card.card));
  const page = await callback(decide(env.emulator, consent, openId, "approve"));
  expect(page.html).toContain("Authorization complete");
  return id;
}

describe("signals after a commit", () => {
  it("wakes a watcher with the AUTHORIZED event without waiting for a poll", async () => {
    const user = newUser(env.emulator);
    const controller = new AbortController();
    const seen: AuthEventType[] = [];
    const stream = env.t
      .clients()
      .auth.watchAuthEvents(
        { appId: TEST_APP_ID, user: byOpenId(user.open_id) },
        { signal: controller.signal },
      );
    const watching = (async () => {
      try {
        for await (const res of stream) {
          if (res.kind.case !== "event") continue;
          seen.push(res.kind.value.type);
          if (res.kind.value.type === AuthEventType.AUTHORIZED) return;
        }
      } catch {
        // aborted below when the event never comes
      }
    })();
    await new Promise((r) => setTimeout(r, 300)); // let the watch subscribe first
    await authorize(user.open_id);
    const timer = setTimeout(() => controller.abort(), 20_000);
    await watching;
    clearTimeout(timer);
    controller.abort();
    expect(seen).toContain(AuthEventType.AUTHORIZED);
  });

  it("serves the new token right after a re-authorization, never the cached old one", async () => {
    const user = newUser(env.emulator);
    const { token } = env.t.clients();
    await authorize(user.open_id);
    const first = await token.getUserAccessToken({ appId: TEST_APP_ID, user: byOpenId(user.open_id) });
    await token.getUserAccessToken({ appId: TEST_APP_ID, user: byOpenId(user.open_id) }); // now cached
    await authorize(user.open_id, true);
    const second = await token.getUserAccessToken({ appId: TEST_APP_ID, user: byOpenId(user.open_id) });
    expect(second.token?.accessToken).toBeTruthy();
    expect(second.token?.accessToken).not.toBe(first.token?.accessToken);
  });
});
