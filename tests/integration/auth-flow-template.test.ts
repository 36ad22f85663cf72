// An app configured with `card_template_id` (config file): the emulator receives the template reference
// with the card's facts as variables instead of the built-in card; the variables carry a working
// Authorize link, and the result card replacing it is the built-in one.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import { startTestEmulator } from "../conformance/emulator-support.js";
import {
  byOpenId,
  callback,
  cardFor,
  cardShows,
  consentUrl,
  decide,
  type FlowEnv,
  newUser,
  sessionIn,
  startFlowEnv,
} from "../support/auth-flow.js";
import { TEST_APP_ID } from "../support/test-app.js";

const TEMPLATE_ID = "ctp_AAsandboxTemplate01";
const dir = mkdtempSync(join(tmpdir(), "lark-auth-template-"));
let env: FlowEnv;

beforeAll(async () => {
  const emulator = await startTestEmulator();
  const file = join(dir, "config.json");
  const app = {
    app_id: TEST_APP_ID,
    app_secret_env: "LARK_APP_SECRET",
    name: "Templated bot",
    domain: emulator.url,
    flow: "redirect",
    card_template_id: TEMPLATE_ID,
  };
  writeFileSync(file, JSON.stringify({ apps: [app] }));
  emulator.registerApp({ app_id: TEST_APP_ID, app_secret: "template-app-secret", name: "Templated bot" });
  const started = await startFlowEnv("redirect", {
    emulator,
    env: { LARK_AUTH_CONFIG: file, LARK_APP_SECRET: "template-app-secret" },
  });
  const close = async () => {
    await started.close();
    await emulator.close();
  };
  env = { ...started, close };
});
afterAll(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

const start = (openId: string, extra: Record<string, unknown> = {}) =>
  env.t.clients().auth.startAuthorization({
    appId: TEST_APP_ID,
    user: byOpenId(openId),
    scopes: ["contact:user.base:readonly"],
    ...extra,
  });

/** The template card's variables, as the emulator stored the message. */
function variablesOf(card: unknown): Record<string, string> {
  expect(card).toMatchObject({ type: "template", data: { template_id: TEMPLATE_ID } });
  return (card as { data: { template_variable: Record<string, string> } }).data.template_variable;
}

describe("card template", () => {
  it("sends the template with the card's facts; its Authorize link completes; the result card is built in", async () => {
    const user = newUser(env.emulator);
    const { session } = await start(user.open_id, { message: "For the weekly report." });
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    const vars = variablesOf(card.card);
    expect(vars).toMatchObject({
      session_id: id,
      app_name: "Templated bot",
      custom_message: "For the weekly report.",
      authorize_url: session?.authorizeUrl,
      user_code: "",
    });
    expect(vars.permissions).toMatch(/\n/); // the requested scope and offline access, one per line
    expect(vars.scopes).toBe("contact:user.base:readonly offline_access");
    expect(vars.expires_at).toBe(session?.expireTime && timestampDate(session.expireTime).toISOString());

    const consent = await consentUrl(vars.authorize_url ?? "");
    const page = await callback(decide(env.emulator, consent, user.open_id, "approve"));
    expect(page.html).toContain("Authorization complete");
    await sessionIn(env.t, id, S.AUTHORIZED);
    const done = await cardShows(env.emulator, user.open_id, card.message_id, "Authorized");
    expect(done.card).not.toHaveProperty("type", "template");
  });

  it("replaces a cancelled session's template card with the built-in result card", async () => {
    const user = newUser(env.emulator);
    const { session } = await start(user.open_id);
    const id = session?.sessionId ?? "";
    const card = await cardFor(env.emulator, user.open_id, id);
    variablesOf(card.card);
    await env.t.clients().auth.cancelAuthSession({ sessionId: id });
    await cardShows(env.emulator, user.open_id, card.message_id, "Request withdrawn");
  });
});
