// The whole product for end-to-end tests: the real app (both transports, real database, jobs, long
// connections) against an in-process emulator, and the moves a person makes in Lark and a browser.
import { randomBytes } from "node:crypto";
import type { AuthSession } from "../../gen/lark/auth/v1/types_pb.js";
import { AuthSessionState } from "../../gen/lark/auth/v1/types_pb.js";
import type { MessageView, RunningEmulator, UserView } from "../../src/emulator/index.js";
import { startTestEmulator } from "../conformance/emulator-support.js";
import { startTestApp, TEST_APP_ID, type TestApp, type TestAppOptions } from "./test-app.js";

export const APP_SECRET = "flow-app-secret-0123456789";
/** Short job intervals: tests wait for outcomes by polling, never by sleeping a fixed time. */
export const FAST_JOBS = { expireIntervalMs: 200, cardSweepIntervalMs: 500, devicePollTickMs: 200 };

export interface FlowEnv {
  readonly emulator: RunningEmulator;
  readonly t: TestApp;
  close(): Promise<void>;
}

/** An emulator with TEST_APP_ID registered, and the app configured for it; waits for its long connection. */
export async function startFlowEnv(
  flow: "redirect" | "device",
  options: TestAppOptions & { env?: Record<string, string>; emulator?: RunningEmulator } = {},
): Promise<FlowEnv> {
  const emulator = options.emulator ?? (await startTestEmulator());
  if (!options.emulator)
    emulator.registerApp({ app_id: TEST_APP_ID, app_secret: APP_SECRET, name: "Flow Test" });
  const t = await startTestApp(
    { LARK_DOMAIN: emulator.url, LARK_APP_SECRET: APP_SECRET, LARK_AUTH_FLOW: flow, ...options.env },
    { jobs: FAST_JOBS, ...options },
  );
  await waitFor(() => emulator.connectionCount(TEST_APP_ID) > 0, "the app's long connection");
  return {
    emulator,
    t,
    close: async () => {
      await t.close();
      if (!options.emulator) await emulator.close();
    },
  };
}

/** Polls `probe` until it returns a truthy value; generous deadline, the machine is shared. */
export async function waitFor<T>(probe: () => Promise<T> | T, what: string, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function newUser(emulator: RunningEmulator, name = "User"): UserView {
  const seed = randomBytes(6).toString("hex");
  return emulator.createUser({ name: `${name} ${seed}`, seed, app_id: TEST_APP_ID });
}

export const byOpenId = (openId: string) => ({ id: { case: "openId" as const, value: openId } });

/** The card the user received for the session (waits for the dispatcher to deliver it). */
export function cardFor(emulator: RunningEmulator, openId: string, sessionId: string): Promise<MessageView> {
  return waitFor(
    () => emulator.messagesOf(openId).find((m) => JSON.stringify(m.card).includes(sessionId)),
    `the card of ${sessionId}`,
  );
}

/** The URL the card's Authorize (open_url) button opens. */
export function authorizeButtonUrl(card: unknown): string {
  const found = JSON.stringify(card).match(/"default_url":"([^"]+)"/);
  if (!found?.[1]) throw new Error("the card has no open_url button");
  return JSON.parse(`"${found[1]}"`) as string;
}

/** Opens the redirector as a browser would, without following: Lark's consent URL (Location). */
export async function openRedirector(url: string): Promise<Response> {
  return fetch(url, { redirect: "manual" });
}

export async function consentUrl(url: string): Promise<string> {
  const res = await openRedirector(url);
  if (res.status !== 302) throw new Error(`the redirector answered ${res.status}`);
  return res.headers.get("location") ?? "";
}

/** The person approves (or denies) on Lark's consent page; the redirect back to our callback. */
export function decide(emulator: RunningEmulator, url: string, openId: string, decision: "approve" | "deny") {
  const answer = emulator.decide({ url, open_id: openId, decision });
  if (!answer.ok) throw new Error(`decide failed: ${answer.error}`);
  return answer.redirect_url ?? "";
}

/** Follows the redirect to our callback; the result page's HTML and status. */
export async function callback(redirectUrl: string): Promise<{ status: number; html: string }> {
  const res = await fetch(redirectUrl, { redirect: "manual" });
  return { status: res.status, html: await res.text() };
}

/** Waits until GetAuthSession shows `state`. */
export function sessionIn(t: TestApp, id: string, state: AuthSessionState): Promise<AuthSession> {
  return waitFor(async () => {
    const { session } = await t.clients().auth.getAuthSession({ sessionId: id });
    return session?.state === state ? session : undefined;
  }, `session ${id} in state ${AuthSessionState[state]}`);
}

/** Waits until the card shows the result card whose title contains `title`. */
export function cardShows(emulator: RunningEmulator, openId: string, messageId: string, title: string) {
  return waitFor(() => {
    const m = emulator.messagesOf(openId).find((x) => x.message_id === messageId);
    return m && JSON.stringify(m.card).includes(title) ? m : undefined;
  }, `card ${messageId} showing "${title}"`);
}

/** Rows of a table for a raw scan (secrets must not appear in any of them). */
export async function tableText(t: TestApp, table: string): Promise<string> {
  const rows = await t.db.em().execute(`select string_agg(x::text, '') as all from ${table} x`);
  return String(rows[0]?.all ?? "");
}
