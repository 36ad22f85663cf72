// How sessions end besides consent, end to end: Decline over the long connection, expiry by the sweeper,
// the device flow finished by the poller, and a plain @grpc/grpc-js caller starting a session.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import {
  authorizeButtonUrl,
  byOpenId,
  cardFor,
  cardShows,
  type FlowEnv,
  newUser,
  sessionIn,
  startFlowEnv,
} from "../support/auth-flow.js";
import { ADMIN_KEY, TEST_APP_ID } from "../support/test-app.js";

const SCOPES = ["contact:user.base:readonly"];
const startFor = (env: FlowEnv, openId: string) =>
  env.t.clients().auth.startAuthorization({ appId: TEST_APP_ID, user: byOpenId(openId), scopes: SCOPES });

describe("decline over the long connection", () => {
  let env: FlowEnv;
  beforeAll(async () => {
    env = await startFlowEnv("redirect");
  });
  afterAll(async () => {
    await env?.close();
  });

  it("declines on the addressed user's click: toast, DECLINED event, card replaced in the answer", async () => {
    const user = newUser(env.emulator);
    const { session } = await startFor(env, user.open_id);
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    const value = { action: "decline", session_id: id };
    const click = await env.emulator.clickCard(card.message_id, { operator_open_id: user.open_id, value });
    if (!click.ok) throw new Error(click.error);
    expect(click.toast).toMatchObject({ type: "success", content: "You declined the request." });
    expect(JSON.stringify(click.message.card)).toContain("Declined");
    const declined = await sessionIn(env.t, id, S.DECLINED);
    expect(declined.completeTime).toBeDefined();
    // Only the addressed user can press the card's button: no reason qualifies this decline.
    expect(declined.failureReason).toBe("");
    const events = await env.t.db
      .em()
      .execute("select type from auth_event where session_id = ? order by id", [id]);
    expect(events.map((e) => e.type)).toEqual(["SESSION_CREATED", "DECLINED"]);
    // The result card has no buttons left to press.
    expect(JSON.stringify(env.emulator.messagesOf(user.open_id)[0]?.card)).not.toContain("callback");
  });

  it("a click on a finished card answers its current state and changes nothing", async () => {
    const user = newUser(env.emulator);
    const { session } = await startFor(env, user.open_id);
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    // Hold the card's update back, so it still shows its buttons when the user clicks.
    env.emulator.addFault({
      path: `/open-apis/im/v1/messages/${card.message_id}`,
      method: "PATCH",
      status: 503,
    });
    await env.t.clients().auth.cancelAuthSession({ sessionId: id });
    const click = await env.emulator.clickCard(card.message_id, {
      operator_open_id: user.open_id,
      value: { action: "decline", session_id: id },
    });
    if (!click.ok) throw new Error(click.error);
    env.emulator.clearFaults();
    expect(click.toast).toMatchObject({ content: "This request is already withdrawn." });
    expect(JSON.stringify(click.message.card)).toContain("Request withdrawn");
    expect((await env.t.clients().auth.getAuthSession({ sessionId: id })).session?.state).toBe(S.CANCELLED);
  });

  it("never lets anyone but the addressed user decline", async () => {
    const user = newUser(env.emulator);
    const stranger = newUser(env.emulator);
    const { session } = await startFor(env, user.open_id);
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    // Lark shows a one-to-one card to its recipient only: a stranger's click never reaches the app.
    const click = await env.emulator.clickCard(card.message_id, {
      operator_open_id: stranger.open_id,
      value: { action: "decline", session_id: id },
    });
    expect(click).toMatchObject({ ok: false, status: 403 });
    // (A click the service receives from someone else is refused by declineSession: flow-end.test.ts.)
    expect((await env.t.clients().auth.getAuthSession({ sessionId: id })).session?.state).toBe(S.PENDING);
  });

  it("starts a session for a plain @grpc/grpc-js client built from the .proto files", async () => {
    const user = newUser(env.emulator);
    const def = protoLoader.loadSync(["lark/auth/v1/auth_service.proto"], {
      includeDirs: [fileURLToPath(new URL("../../proto", import.meta.url))],
      keepCase: true,
      enums: String,
      longs: String,
      defaults: true,
      oneofs: true,
    });
    // biome-ignore lint/suspicious/noExplicitAny: dynamic stubs are untyped by nature.
    const pkg = grpc.loadPackageDefinition(def) as any;
    const client = new pkg.lark.auth.v1.AuthService(
      `127.0.0.1:${env.t.app.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${ADMIN_KEY}`);
    // biome-ignore lint/suspicious/noExplicitAny: dynamic stubs.
    const answer = await new Promise<any>((resolve, reject) =>
      client.StartAuthorization(
        { app_id: TEST_APP_ID, user: { open_id: user.open_id }, scopes: SCOPES },
        md,
        (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)),
      ),
    );
    client.close();
    expect(answer.already_authorized).toBe(false);
    expect(answer.session.state).toBe("AUTH_SESSION_STATE_PENDING");
    await cardFor(env.emulator, user.open_id, answer.session.session_id);
  });
});

describe("expiry", () => {
  let env: FlowEnv;
  beforeAll(async () => {
    env = await startFlowEnv("redirect", {
      config: (c) => ({ ...c, options: { ...c.options, sessionTtlSeconds: 2 } }),
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("expires a pending session past its time (sweeper), with its event, and updates the card", async () => {
    const user = newUser(env.emulator);
    const { session } = await startFor(env, user.open_id);
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    await sessionIn(env.t, id, S.EXPIRED);
    await cardShows(env.emulator, user.open_id, card.message_id, "Request expired");
    const page = await fetch(authorizeButtonUrl(card.card), { redirect: "manual" });
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("This request has expired");
  });
});

describe("device flow", () => {
  let env: FlowEnv;
  beforeAll(async () => {
    env = await startFlowEnv("device");
    env.emulator.configure({ device_poll_interval: 1 });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("sends the verification URL on the card; the poller finishes after the user approves", async () => {
    const user = newUser(env.emulator);
    const { session } = await startFor(env, user.open_id);
    const id = session?.sessionId ?? "";
    expect(session?.flow).toBe(2); // DEVICE
    const card = await cardFor(env.emulator, user.open_id, id);
    const verify = authorizeButtonUrl(card.card);
    expect(verify).toMatch(/\/oauth\/v1\/device\/verify\?/);
    expect((await env.t.clients().auth.getAuthSession({ sessionId: id })).session?.authorizeUrl).toBe(verify);
    // The card says which code to enter, should the verification page ask for it; no log line does.
    const userCode = new URL(verify).searchParams.get("user_code") ?? "";
    expect(userCode).not.toBe("");
    expect(JSON.stringify(card.card)).toContain(`If asked for a code, enter ${userCode}.`);
    expect(env.t.logs.lines.join("\n")).not.toContain(userCode);
    const decided = env.emulator.decide({ url: verify, open_id: user.open_id, decision: "approve" });
    expect(decided.ok).toBe(true);
    const done = await sessionIn(env.t, id, S.AUTHORIZED);
    expect(done.identity?.openId).toBe(user.open_id);
    await cardShows(env.emulator, user.open_id, card.message_id, "Authorized");
  });

  it("declines when the user denies on the verification page", async () => {
    const user = newUser(env.emulator);
    const { session } = await startFor(env, user.open_id);
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    env.emulator.decide({ url: authorizeButtonUrl(card.card), open_id: user.open_id, decision: "deny" });
    await sessionIn(env.t, id, S.DECLINED);
    await cardShows(env.emulator, user.open_id, card.message_id, "Declined");
  });
});
