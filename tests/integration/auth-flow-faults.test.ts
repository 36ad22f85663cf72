// Every Lark fault the emulator can inject, end to end: each ends the session FAILED with a stable
// reason, or leaves it PENDING while the user can still succeed. Never a crash, never a lost card.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import {
  authorizeButtonUrl,
  byOpenId,
  callback,
  cardFor,
  consentUrl,
  decide,
  type FlowEnv,
  newUser,
  sessionIn,
  startFlowEnv,
  waitFor,
} from "../support/auth-flow.js";
import { TEST_APP_ID } from "../support/test-app.js";

let env: FlowEnv;
beforeAll(async () => {
  env = await startFlowEnv("redirect");
});
afterEach(() => env.emulator.clearFaults());
afterAll(async () => {
  await env?.close();
});

const MESSAGES = "/open-apis/im/v1/messages";
const TOKEN = "/open-apis/authen/v2/oauth/token";
const USER_INFO = "/open-apis/authen/v1/user_info";

async function started() {
  const user = newUser(env.emulator);
  const { session } = await env.t.clients().auth.startAuthorization({
    appId: TEST_APP_ID,
    user: byOpenId(user.open_id),
    scopes: ["contact:user.base:readonly"],
  });
  return { user, id: session?.sessionId ?? "" };
}

/** A started session whose user approved: the redirect to our callback, not yet followed. */
async function approved() {
  const { user, id } = await started();
  const card = await cardFor(env.emulator, user.open_id, id);
  const consent = await consentUrl(authorizeButtonUrl(card.card));
  return { user, id, redirect: decide(env.emulator, consent, user.open_id, "approve") };
}

describe("Lark faults on sending the card", () => {
  it("a refusal fails the session CARD_DELIVERY_FAILED with the Lark code", async () => {
    env.emulator.addFault({ path: MESSAGES, method: "POST", code: 230013, status: 400, count: 1 });
    const { id } = await started();
    const failed = await sessionIn(env.t, id, S.FAILED);
    expect(failed.failureReason).toBe("CARD_DELIVERY_FAILED");
    expect(failed.failureMessage).toBe("Lark refused the request (code 230013)");
  });

  for (const [name, fault] of [
    ["5xx", { status: 503 }],
    ["a rate-limit answer", { code: 99991400, status: 429 }],
    ["a timeout-like delay", { status: 500, latency_ms: 200 }],
  ] as const) {
    it(`${name} is retried: the card arrives and the session stays PENDING`, async () => {
      env.emulator.addFault({ path: MESSAGES, method: "POST", count: 2, ...fault });
      const { user, id } = await started();
      await cardFor(env.emulator, user.open_id, id);
      expect((await env.t.clients().auth.getAuthSession({ sessionId: id })).session?.state).toBe(S.PENDING);
    });
  }
});

describe("Lark faults on the code exchange", () => {
  for (const [code, reason] of [
    [20003, "CODE_INVALID"],
    [20004, "CODE_EXPIRED"],
    [20065, "CODE_ALREADY_USED"],
    [20024, "CODE_INVALID"],
  ] as const) {
    it(`code ${code} fails the session ${reason}`, async () => {
      const { id, redirect } = await approved();
      env.emulator.addFault({ path: TOKEN, code, status: 400, count: 1 });
      expect((await callback(redirect)).html).toContain("Authorization failed");
      expect((await sessionIn(env.t, id, S.FAILED)).failureReason).toBe(reason);
    });
  }

  it("a 5xx leaves the session PENDING and the link usable: the next try succeeds", async () => {
    const { id, redirect } = await approved();
    env.emulator.addFault({ path: TOKEN, status: 503, count: 1 });
    const first = await callback(redirect);
    expect(first.html).toContain("Something went wrong");
    expect((await env.t.clients().auth.getAuthSession({ sessionId: id })).session?.state).toBe(S.PENDING);
    expect((await callback(redirect)).html).toContain("Authorization complete");
    await sessionIn(env.t, id, S.AUTHORIZED);
  });
});

describe("Lark faults on user info", () => {
  it("a passing 5xx is retried: the user is authorized", async () => {
    const { id, redirect } = await approved();
    env.emulator.addFault({ path: USER_INFO, status: 500, count: 1 });
    expect((await callback(redirect)).html).toContain("Authorization complete");
    await sessionIn(env.t, id, S.AUTHORIZED);
  });

  // A 5xx that outlasts the call policy's retries (the fault has no count), and a refusal, which is never retried.
  for (const [name, fault] of [
    ["a lasting 5xx", { status: 500 }],
    ["an invalid-token refusal", { code: 99991663, status: 400, count: 1 }],
  ] as const) {
    it(`${name} fails the session USER_INFO_FAILED and stores no grant`, async () => {
      const { user, id, redirect } = await approved();
      env.emulator.addFault({ path: USER_INFO, ...fault });
      expect((await callback(redirect)).html).toContain("Authorization failed");
      expect((await sessionIn(env.t, id, S.FAILED)).failureReason).toBe("USER_INFO_FAILED");
      expect(
        await env.t.db.em().execute("select 1 from user_grant where open_id = ?", [user.open_id]),
      ).toEqual([]);
    });
  }
});

describe("Lark faults on the long connection", () => {
  it("a dropped connection reconnects and a Decline still arrives", async () => {
    env.emulator.addFault({ drop_connections: true, app_id: TEST_APP_ID });
    env.emulator.clearFaults();
    const { user, id } = await started();
    const card = await cardFor(env.emulator, user.open_id, id);
    await waitFor(() => env.emulator.connectionCount(TEST_APP_ID) > 0, "the reconnection");
    const click = await env.emulator.clickCard(card.message_id, {
      operator_open_id: user.open_id,
      value: { action: "decline", session_id: id },
    });
    expect(click).toMatchObject({ ok: true });
    await sessionIn(env.t, id, S.DECLINED);
  });
});
