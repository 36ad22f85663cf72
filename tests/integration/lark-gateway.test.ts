// The LarkGateway (real node-sdk) against an in-process emulator: cards, the redirect and device OAuth
// flows, user info, tenant tokens, card actions over the long connection, and fault mapping. Every
// failure must be a LarkError of the right kind with no secret in it, and no secret in the logs.
import { createHash, randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LarkError } from "../../src/domain/lark-error.js";
import type { AppView, RunningEmulator, UserView } from "../../src/emulator/index.js";
import { createLarkGateway, type LarkService } from "../../src/lark/gateway.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startTestEmulator } from "../conformance/emulator-support.js";

const REDIRECT_URI = "http://127.0.0.1:1/oauth/callback";
const SCOPES = [
  "contact:user.email:readonly",
  "contact:user.phone:readonly",
  "contact:user.employee_id:readonly",
];
const card = (title: string) => ({
  schema: "2.0",
  config: { update_multi: true },
  header: { title: { tag: "plain_text", content: title }, template: "blue" },
  body: {
    elements: [
      {
        tag: "button",
        text: { tag: "plain_text", content: "Decline" },
        behaviors: [{ type: "callback", value: { action: "decline", session_id: "s-1" } }],
      },
    ],
  },
});

let emulator: RunningEmulator;
let app: AppView;
let user: UserView;
let gateway: LarkService;
const logLines: string[] = [];
const secrets: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ config: { devicePollIntervalSeconds: 0.2 } });
  app = emulator.registerApp({ redirect_urls: [REDIRECT_URI], name: "Expenses" });
  user = emulator.createUser({
    name: "Alice",
    email: `alice-${randomBytes(3).toString("hex")}@example.com`,
    mobile: "+8613800000000",
    app_id: app.app_id,
  });
  secrets.push(app.app_secret);
  const logger = createLogger({
    level: "trace",
    destination: { write: (line: string) => logLines.push(line) },
  });
  gateway = createLarkGateway({
    apps: [
      {
        appId: app.app_id,
        name: "Expenses",
        appSecret: app.app_secret,
        domain: emulator.url,
        flow: "redirect",
      },
    ],
    logger,
  });
});
afterEach(() => {
  emulator.clearFaults();
});
afterAll(async () => {
  // Whatever happened above, no token or secret the test saw may have reached a log line.
  const logs = logLines.join("\n");
  expect(logs).toContain('"component":"lark-sdk"');
  for (const secret of secrets) expect(logs).not.toContain(secret);
  await emulator.close();
});

/** Awaits a rejection and checks it is a LarkError that carries no secret the test knows of. */
async function larkFailure(promise: Promise<unknown>): Promise<LarkError> {
  const err = await promise.then(
    () => {
      throw new Error("expected a LarkError");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LarkError);
  const text = `${(err as Error).message} ${JSON.stringify(err)} ${(err as Error).stack}`;
  for (const secret of secrets) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/Bearer|t-[A-Za-z0-9]{12,}/);
  return err as LarkError;
}

function pkce() {
  const verifier = randomBytes(48).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** The redirect flow up to the tokens: build the URL, the user approves in the emulator, exchange. */
async function authorize() {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString("base64url");
  const url = gateway.buildAuthorizeUrl(app.app_id, {
    redirectUri: REDIRECT_URI,
    scopes: SCOPES,
    state,
    codeChallenge: challenge,
  });
  const decided = emulator.decide({ url, open_id: user.open_id, decision: "approve" });
  if (!decided.ok || !decided.redirect_url) throw new Error(`decide failed: ${JSON.stringify(decided)}`);
  const redirect = new URL(decided.redirect_url);
  expect(redirect.searchParams.get("state")).toBe(state);
  const code = redirect.searchParams.get("code") ?? "";
  secrets.push(code, verifier);
  const tokens = await gateway.exchangeCode(app.app_id, {
    code,
    redirectUri: REDIRECT_URI,
    codeVerifier: verifier,
  });
  secrets.push(tokens.accessToken, tokens.refreshToken ?? "");
  return { tokens, code, verifier };
}

describe("cards", () => {
  it("sends a card by open_id and by email, and updates it in place", async () => {
    const byOpenId = await gateway.sendCard(
      app.app_id,
      { kind: "open_id", value: user.open_id },
      card("one"),
    );
    const byEmail = await gateway.sendCard(app.app_id, { kind: "email", value: user.email }, card("two"));
    expect(byOpenId.messageId).toMatch(/^om_/);
    // Lark's create_time (epoch ms): the dispatcher's limiter counts the send from it.
    const created = byOpenId.createTime?.getTime() ?? 0;
    expect(Math.abs(created - Date.now())).toBeLessThan(60_000);
    await gateway.updateCard(app.app_id, byOpenId.messageId, card("one, updated"));
    const messages = emulator.messagesOf(user.open_id);
    expect(messages.map((m) => m.message_id)).toEqual([byOpenId.messageId, byEmail.messageId]);
    expect(messages[0]?.card).toEqual(card("one, updated"));
    expect(messages[1]?.card).toEqual(card("two"));
  });

  it("delivers a card once per uuid", async () => {
    const uuid = randomBytes(8).toString("hex");
    const to = { kind: "user_id", value: user.user_id } as const;
    const first = await gateway.sendCard(app.app_id, to, card("once"), uuid);
    const again = await gateway.sendCard(app.app_id, to, card("once"), uuid);
    expect(again.messageId).toBe(first.messageId);
  });

  it("maps an unknown receiver to a terminal error, and an unknown app too", async () => {
    const err = await larkFailure(
      gateway.sendCard(app.app_id, { kind: "open_id", value: "ou_nobody" }, card("x")),
    );
    expect(err.kind).toBe("terminal");
    expect(err.code).not.toBe(0);
    const unknown = await larkFailure(
      gateway.sendCard("cli_ffffffffffffffff", { kind: "open_id", value: "x" }, card("x")),
    );
    expect(unknown).toMatchObject({ kind: "terminal", code: 0 });
  });
});

describe("redirect OAuth flow", () => {
  it("builds an authorize URL with offline_access and PKCE S256 on the accounts origin", () => {
    const url = new URL(
      gateway.buildAuthorizeUrl(app.app_id, {
        redirectUri: REDIRECT_URI,
        scopes: ["a:b"],
        state: "s",
        codeChallenge: "c",
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`${emulator.url}/open-apis/authen/v1/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: app.app_id,
      response_type: "code",
      redirect_uri: REDIRECT_URI,
      scope: "a:b offline_access",
      state: "s",
      code_challenge: "c",
      code_challenge_method: "S256",
    });
  });

  it("exchanges the code for tokens with a refresh token; the code is single use", async () => {
    const { tokens, code, verifier } = await authorize();
    expect(tokens).toMatchObject({ expiresIn: expect.any(Number), refreshExpiresIn: expect.any(Number) });
    expect(tokens.refreshToken).toBeTruthy();
    expect(tokens.scopes).toEqual(expect.arrayContaining([...SCOPES, "offline_access"]));
    const reused = await larkFailure(
      gateway.exchangeCode(app.app_id, { code, redirectUri: REDIRECT_URI, codeVerifier: verifier }),
    );
    expect(reused).toMatchObject({ kind: "terminal", httpStatus: 400, oauthError: "invalid_grant" });
  });

  it("refresh rotates the refresh token; the old one is then refused for good", async () => {
    const { tokens } = await authorize();
    const next = await gateway.refreshToken(app.app_id, tokens.refreshToken ?? "");
    secrets.push(next.accessToken, next.refreshToken ?? "");
    expect(next.refreshToken).toBeTruthy();
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    const err = await larkFailure(gateway.refreshToken(app.app_id, tokens.refreshToken ?? ""));
    expect(err.kind).toBe("terminal");
    expect([20064, 20073]).toContain(err.code);
  });

  it("reads the user's identity with the access token", async () => {
    const { tokens } = await authorize();
    const identity = await gateway.getUserInfo(app.app_id, tokens.accessToken);
    expect(identity).toMatchObject({
      openId: user.open_id,
      unionId: user.union_id,
      userId: user.user_id,
      tenantKey: user.tenant_key,
      name: "Alice",
      email: user.email,
      mobile: "+8613800000000",
    });
    const bad = await larkFailure(gateway.getUserInfo(app.app_id, "eyJforged.token.value"));
    expect(bad).toMatchObject({ kind: "terminal", code: 99991668, httpStatus: 400 });
  });
});

describe("device flow", () => {
  it("answers pending, then tokens after the user approves", async () => {
    const device = await gateway.startDeviceAuthorization(app.app_id, ["contact:user.email:readonly"]);
    secrets.push(device.deviceCode);
    expect(device.verificationUriComplete).toContain(emulator.url);
    expect(await gateway.pollDeviceToken(app.app_id, device.deviceCode)).toEqual({ status: "pending" });
    const decided = emulator.decide({
      url: device.verificationUriComplete,
      open_id: user.open_id,
      decision: "approve",
    });
    expect(decided).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 250)); // the emulator's poll interval is 0.2 s
    const polled = await gateway.pollDeviceToken(app.app_id, device.deviceCode);
    expect(polled.status).toBe("authorized");
    if (polled.status !== "authorized") return;
    secrets.push(polled.tokens.accessToken, polled.tokens.refreshToken ?? "");
    expect(polled.tokens.refreshToken).toBeTruthy();
  });

  it("answers slow_down when polled faster than the interval", async () => {
    const device = await gateway.startDeviceAuthorization(app.app_id, []);
    expect(await gateway.pollDeviceToken(app.app_id, device.deviceCode)).toEqual({ status: "pending" });
    expect(await gateway.pollDeviceToken(app.app_id, device.deviceCode)).toEqual({ status: "slow_down" });
  });

  it("answers denied when the user declines", async () => {
    const device = await gateway.startDeviceAuthorization(app.app_id, []);
    emulator.decide({ url: device.verificationUriComplete, open_id: user.open_id, decision: "deny" });
    expect(await gateway.pollDeviceToken(app.app_id, device.deviceCode)).toEqual({ status: "denied" });
  });
});

describe("tenant token", () => {
  it("comes from the SDK's token manager with its expiry", async () => {
    const { token, expireTime } = await gateway.getTenantAccessToken(app.app_id);
    secrets.push(token);
    expect(token).toMatch(/^t-/);
    expect(expireTime.getTime()).toBeGreaterThan(Date.now() + 3600_000);
  });
});

describe("faults", () => {
  it("5xx and throttling are transient; 20064/20037 are terminal", async () => {
    emulator.addFault({ path: "/open-apis/im/v1/messages", status: 503, count: 1 });
    const down = await larkFailure(
      gateway.sendCard(app.app_id, { kind: "open_id", value: user.open_id }, card("x")),
    );
    expect(down).toMatchObject({ kind: "transient", httpStatus: 503 });

    emulator.addFault({ path: "/open-apis/im/v1/messages", code: 99991400, count: 1 });
    const throttled = await larkFailure(
      gateway.sendCard(app.app_id, { kind: "open_id", value: user.open_id }, card("x")),
    );
    expect(throttled).toMatchObject({ kind: "transient", code: 99991400, httpStatus: 429 });

    for (const code of [20064, 20037]) {
      emulator.addFault({ path: "/open-apis/authen/v2/oauth/token", code, count: 1 });
      const err = await larkFailure(gateway.refreshToken(app.app_id, "eyJsome.refresh.token"));
      expect(err).toMatchObject({ kind: "terminal", code, oauthError: "invalid_grant" });
    }
    emulator.addFault({ path: "/open-apis/authen/v2/oauth/token", code: 20050, count: 1 });
    expect(await larkFailure(gateway.refreshToken(app.app_id, "eyJx.y.z"))).toMatchObject({
      kind: "transient",
    });
  });

  it("a Lark call that never answers ends at the time-outs as a transient failure", async () => {
    const impatient = createLarkGateway({
      apps: [
        { appId: app.app_id, name: "x", appSecret: app.app_secret, domain: emulator.url, flow: "redirect" },
      ],
      logger: createLogger({ level: "silent" }),
      httpTimeoutMs: 300,
    });
    const to = { kind: "open_id", value: user.open_id } as const;
    const calls: Array<[string, () => Promise<unknown>]> = [
      [
        "/open-apis/authen/v2/oauth/token",
        () => impatient.exchangeCode(app.app_id, { code: "c", redirectUri: REDIRECT_URI, codeVerifier: "v" }),
      ],
      ["/open-apis/im/v1/messages", () => impatient.sendCard(app.app_id, to, card("x"))],
      ["/open-apis/authen/v1/user_info", () => impatient.getUserInfo(app.app_id, "u-never-answered")],
    ];
    // Lark never answers at all: a retried read times out on every attempt, a code exchange or a create
    // without uuid on its only one; either way the caller hears a transient failure within seconds.
    for (const [path, call] of calls) {
      emulator.addFault({ path, timeout: true });
      const started = Date.now();
      const err = await larkFailure(call());
      emulator.clearFaults();
      expect(err).toMatchObject({ kind: "transient", code: 0 });
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it("a network failure is transient and says no more than the error code", async () => {
    const offline = createLarkGateway({
      apps: [
        {
          appId: app.app_id,
          name: "x",
          appSecret: app.app_secret,
          domain: "http://127.0.0.1:1",
          flow: "device",
        },
      ],
      logger: createLogger({ level: "silent" }),
    });
    const err = await larkFailure(
      offline.exchangeCode(app.app_id, { code: "c", redirectUri: REDIRECT_URI, codeVerifier: "v" }),
    );
    expect(err).toMatchObject({ kind: "transient", code: 0 });
  });
});
