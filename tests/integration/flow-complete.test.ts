// The redirect flow's end against the real emulator and database: consent through the emulator's
// control API, the code and state it redirects with, then completeRedirect.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CompleteRedirectDeps, completeRedirect } from "../../src/domain/sessions/complete-redirect.js";
import {
  type OpenAuthorizationDeps,
  openAuthorization,
} from "../../src/domain/sessions/open-authorization.js";
import { type StartDeps, startAuthorization } from "../../src/domain/sessions/start-authorization.js";
import type { UserRef } from "../../src/domain/users.js";
import type { AppView, RunningEmulator } from "../../src/emulator/index.js";
import { grantAad } from "../../src/store/grant-writer.js";
import { REDIRECT_URI, startTestEmulator } from "../conformance/emulator-support.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { emulatorGateway } from "../support/emulator-gateway.js";
import { seedApp } from "../support/factories.js";
import { ALL_POWERFUL, type FlowParts, flowParts } from "../support/flow.js";

let t: TestDatabase;
let emulator: RunningEmulator;
let app: AppView;
let f: FlowParts;
let startDeps: StartDeps;
let deps: CompleteRedirectDeps;
let openDeps: OpenAuthorizationDeps;
const REDIRECTOR = "https://auth.example.test/oauth/authorize";

beforeAll(async () => {
  [t, emulator] = await Promise.all([createTestDatabase(), startTestEmulator()]);
  app = emulator.registerApp({ redirect_urls: [REDIRECT_URI] });
  await seedApp(t.db, { appId: app.app_id });
  f = flowParts(t.db);
  const lark = emulatorGateway(emulator, [app]);
  const common = { uow: f.uow, crypto: f.crypto, clock: f.clock, cards: f.cards };
  startDeps = {
    ...common,
    apps: { find: (id) => (id === app.app_id ? { appId: id, flow: "REDIRECT" } : undefined) },
    policy: { sessionTtlMs: 600_000, startsPerMinute: 100, authorizeUrl: (id) => `${REDIRECTOR}/${id}` },
  };
  deps = { ...common, lark, log: f.log, redirectUri: REDIRECT_URI };
  openDeps = { ...common, lark, redirectUri: REDIRECT_URI };
});
afterEach(() => emulator.clearFaults());
afterAll(async () => {
  await emulator?.close();
  await t?.close();
});

let seed = 0;
function newUser() {
  seed += 1;
  return emulator.createUser({
    name: `User ${seed}`,
    seed: `flow-${seed}-${Date.now()}`,
    app_id: app.app_id,
  });
}

/** Starts a session for `ref`, has `consenter` approve its URL, and returns what the redirect carried. */
async function consent(ref: UserRef, consenter: string, scopes = ["contact:user.base:readonly"]) {
  const { session } = await startAuthorization(startDeps, ALL_POWERFUL, {
    appId: app.app_id,
    user: ref,
    scopes,
  });
  if (!session) throw new Error("no session");
  // The card's button opens the redirector; what it answers is Lark's consent URL with a fresh state.
  const opened = await openAuthorization(openDeps, session.id);
  if (opened.kind !== "consent") throw new Error(`not openable: ${opened.kind}`);
  const decided = emulator.decide({ url: opened.url, open_id: consenter, decision: "approve" });
  if (!decided.ok || !decided.redirect_url) throw new Error(`decide failed: ${JSON.stringify(decided)}`);
  const redirect = new URL(decided.redirect_url);
  return {
    session,
    code: redirect.searchParams.get("code") ?? "",
    state: redirect.searchParams.get("state") ?? "",
  };
}

const grantRows = (openId: string) =>
  t.db.em().execute("select * from user_grant where open_id = ?", [openId]);
const stateOf = async (id: string) =>
  (await t.db.em().execute("select state, failure_reason from auth_session where id = ?", [id]))[0];

describe("completeRedirect", () => {
  it("authorizes the session and stores the grant sealed, with no plaintext token in any table", async () => {
    const user = newUser();
    const { session, code, state } = await consent({ kind: "open_id", value: user.open_id }, user.open_id);
    const done = await completeRedirect(deps, { code, state });
    expect(done).toMatchObject({ id: session.id, state: "AUTHORIZED", identity: { openId: user.open_id } });
    expect(done.authorizeUrl).toBe(`${REDIRECTOR}/${session.id}`);
    const [grant] = await grantRows(user.open_id);
    const sealed = Buffer.from(grant?.access_token_sealed as Uint8Array).toString("utf8");
    const access = f.sealer.open(sealed, grantAad(app.app_id, user.open_id, "access"));
    expect(access).toMatch(/^eyJ/);
    const everything = await t.db
      .em()
      .execute(
        "select (select string_agg(t::text, '') from user_grant t) || (select string_agg(t::text, '') from auth_session t) || (select string_agg(t::text, '') from auth_event t) as all",
      );
    expect(String(everything[0]?.all)).not.toContain(access);
    expect(String(everything[0]?.all)).not.toContain(state);
    expect(f.cards.notified.at(-1)).toEqual({ appId: app.app_id, sessionId: session.id });
  });

  it("arms a fresh state per click: an earlier click's state is then invalid, a finished session says so", async () => {
    const user = newUser();
    const { session } = await startAuthorization(startDeps, ALL_POWERFUL, {
      appId: app.app_id,
      user: { kind: "open_id", value: user.open_id },
      scopes: ["contact:user.base:readonly"],
    });
    const first = await openAuthorization(openDeps, session?.id ?? "");
    const second = await openAuthorization(openDeps, session?.id ?? "");
    if (first.kind !== "consent" || second.kind !== "consent") throw new Error("expected consent URLs");
    const stateOfUrl = (u: string) => new URL(u).searchParams.get("state") ?? "";
    expect(stateOfUrl(first.url)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stateOfUrl(second.url)).not.toBe(stateOfUrl(first.url));
    await expect(completeRedirect(deps, { code: "x", state: stateOfUrl(first.url) })).rejects.toMatchObject({
      code: "STATE_INVALID",
    });
    const decided = emulator.decide({ url: second.url, open_id: user.open_id, decision: "approve" });
    const code = new URL(decided.ok ? (decided.redirect_url ?? "") : "").searchParams.get("code") ?? "";
    await completeRedirect(deps, { code, state: stateOfUrl(second.url) });
    expect(await openAuthorization(openDeps, session?.id ?? "")).toMatchObject({
      kind: "finished",
      session: { state: "AUTHORIZED" },
    });
    await expect(openAuthorization(openDeps, "00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({
      code: "SESSION_NOT_FOUND",
    });
  });

  it("matches a user asked by email case-insensitively", async () => {
    const user = newUser();
    const ref = { kind: "email" as const, value: user.email.toUpperCase() };
    const { code, state } = await consent(ref, user.open_id, ["contact:user.email:readonly"]);
    expect((await completeRedirect(deps, { code, state })).state).toBe("AUTHORIZED");
  });

  it("recognises a user named by email or user_id when the caller did not ask for the identifying scope", async () => {
    for (const [kind, scope] of [
      ["email", "contact:user.email:readonly"],
      ["user_id", "contact:user.employee_id:readonly"],
    ] as const) {
      const user = newUser();
      const ref = { kind, value: kind === "email" ? user.email : user.user_id };
      const { session, code, state } = await consent(ref, user.open_id);
      const done = await completeRedirect(deps, { code, state });
      expect(done.failureReason).toBeUndefined();
      expect(done).toMatchObject({ state: "AUTHORIZED", identity: { openId: user.open_id } });
      expect(session.requestedScopes).toContain(scope);
    }
  });

  it("answers a replayed state STATE_ALREADY_USED and stores nothing twice", async () => {
    const user = newUser();
    const { code, state } = await consent({ kind: "open_id", value: user.open_id }, user.open_id);
    await completeRedirect(deps, { code, state });
    await expect(completeRedirect(deps, { code, state })).rejects.toMatchObject({
      code: "STATE_ALREADY_USED",
    });
    const rows = await grantRows(user.open_id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.version).toBe("1");
  });

  it("answers a forged state STATE_INVALID", async () => {
    const user = newUser();
    const { code } = await consent({ kind: "open_id", value: user.open_id }, user.open_id);
    await expect(completeRedirect(deps, { code, state: "forged-state" })).rejects.toMatchObject({
      code: "STATE_INVALID",
    });
  });

  it("fails the session USER_MISMATCH when someone else consents, and stores no grant", async () => {
    const asked = newUser();
    const other = newUser();
    const { session, code, state } = await consent({ kind: "open_id", value: asked.open_id }, other.open_id);
    const done = await completeRedirect(deps, { code, state });
    expect(done).toMatchObject({ state: "FAILED", failureReason: "USER_MISMATCH" });
    expect(done.identity).toBeUndefined();
    expect(await grantRows(other.open_id)).toHaveLength(0);
    expect(await grantRows(asked.open_id)).toHaveLength(0);
    expect(await stateOf(session.id)).toEqual({ state: "FAILED", failure_reason: "USER_MISMATCH" });
  });

  it("fails the session CODE_INVALID when Lark refuses the code", async () => {
    const user = newUser();
    const { session, state } = await consent({ kind: "open_id", value: user.open_id }, user.open_id);
    const done = await completeRedirect(deps, { code: "not-a-code", state });
    expect(done).toMatchObject({ id: session.id, state: "FAILED", failureReason: "CODE_INVALID" });
  });

  it("leaves the session pending and the state usable when the code exchange answers 5xx", async () => {
    const user = newUser();
    const { session, code, state } = await consent({ kind: "open_id", value: user.open_id }, user.open_id);
    emulator.addFault({ path: "/open-apis/authen/v2/oauth/token", status: 503, count: 1 });
    await expect(completeRedirect(deps, { code, state })).rejects.toMatchObject({ code: "LARK_UNAVAILABLE" });
    expect(await stateOf(session.id)).toEqual({ state: "PENDING", failure_reason: null });
    expect(await grantRows(user.open_id)).toHaveLength(0);
    expect((await completeRedirect(deps, { code, state })).state).toBe("AUTHORIZED");
  });

  it("expires a session whose deadline passed, with its event, and answers SESSION_EXPIRED", async () => {
    const user = newUser();
    const { session, code, state } = await consent({ kind: "open_id", value: user.open_id }, user.open_id);
    f.clock.advance(600_000);
    await expect(completeRedirect(deps, { code, state })).rejects.toMatchObject({ code: "SESSION_EXPIRED" });
    expect(await stateOf(session.id)).toEqual({ state: "EXPIRED", failure_reason: null });
    const events = await t.db
      .em()
      .execute("select type from auth_event where session_id = ? order by id", [session.id]);
    expect(events.map((e) => e.type)).toEqual(["SESSION_CREATED", "EXPIRED"]);
    expect(await grantRows(user.open_id)).toHaveLength(0);
  });
});
