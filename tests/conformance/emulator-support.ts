// Shared set-up for the emulator conformance tests: an in-process emulator on a random port, real
// node-sdk clients with their own token cache, and small HTTP helpers for the OAuth endpoints.
import { createHash, randomBytes } from "node:crypto";
import * as lark from "@larksuiteoapi/node-sdk";
import {
  type AppView,
  type RunningEmulator,
  type StartEmulatorOptions,
  startEmulator,
} from "../../src/emulator/index.js";

/** The SDK's token cache is a process-wide singleton unless a client gets its own; give each its own. */
export class MapCache {
  readonly #values = new Map<string, { value: unknown; expire?: number }>();
  async set(key: unknown, value: unknown, expire?: number, options?: { namespace?: string }) {
    this.#values.set(`${options?.namespace}/${String(key)}`, { value, expire });
    return true;
  }
  async get(key: unknown, options?: { namespace?: string }) {
    const hit = this.#values.get(`${options?.namespace}/${String(key)}`);
    if (!hit || (hit.expire !== undefined && hit.expire < Date.now())) return undefined;
    return hit.value;
  }
}

/** The SDK logs every failed call at error level; the tests assert on the failures instead. */
export const silentLogger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

export const FAST_CLIENT_CONFIG = {
  PingInterval: 1,
  ReconnectCount: -1,
  ReconnectInterval: 1,
  ReconnectNonce: 0,
};

export async function startTestEmulator(opts: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ clientConfig: FAST_CLIENT_CONFIG, ackTimeoutMs: 1000, ...opts });
}

/** A real SDK client for the app, pointed at the emulator for both the Open Platform and the accounts paths. */
export function sdkClient(emulator: RunningEmulator, app: AppView): lark.Client {
  return new lark.Client({
    appId: app.app_id,
    appSecret: app.app_secret,
    domain: emulator.url,
    oauthBaseUrl: emulator.url,
    cache: new MapCache(),
    logger: silentLogger,
  });
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POST JSON (or a form, with `form: true`) and read a JSON answer. */
export async function post(
  url: string,
  body: Record<string, string | undefined>,
  init: { form?: boolean; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const clean = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": init.form ? "application/x-www-form-urlencoded" : "application/json",
      ...init.headers,
    },
    body: init.form ? new URLSearchParams(clean).toString() : JSON.stringify(clean),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

export async function control(emulator: RunningEmulator, method: string, path: string, body?: unknown) {
  const res = await fetch(`${emulator.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: control answers are asserted with toMatchObject, not typed one by one.
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
}

export function pkcePair(method: "S256" | "plain" = "S256") {
  const verifier = randomBytes(48).toString("base64url");
  const challenge = method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
  return { verifier, challenge, method };
}

export const REDIRECT_URI = "http://127.0.0.1:1/oauth/callback";

/** Builds an authorize URL the way a service would put it behind a card's button. */
export function authorizeUrl(
  emulator: RunningEmulator,
  app: AppView,
  opts: { scope: string; state?: string; challenge?: string; method?: string },
): string {
  const url = new URL("/open-apis/authen/v1/authorize", emulator.url);
  url.searchParams.set("client_id", app.app_id);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("redirect_uri", REDIRECT_URI);
  url.searchParams.set("scope", opts.scope);
  url.searchParams.set("state", opts.state ?? "st-1");
  if (opts.challenge) url.searchParams.set("code_challenge", opts.challenge);
  if (opts.method) url.searchParams.set("code_challenge_method", opts.method);
  return url.toString();
}

/** Acts as the user approving the authorize URL; returns the code from the redirect. */
export function approve(emulator: RunningEmulator, url: string, openId: string): string {
  const result = emulator.decide({ url, open_id: openId, decision: "approve" });
  if (!result.ok || !result.redirect_url) throw new Error(`decide failed: ${JSON.stringify(result)}`);
  const code = new URL(result.redirect_url).searchParams.get("code");
  if (!code) throw new Error(`no code in ${result.redirect_url}`);
  return code;
}

/** Exchanges a code at the v2 endpoint. */
export function exchange(
  emulator: RunningEmulator,
  app: AppView,
  code: string,
  extra: Record<string, string> = {},
) {
  return post(`${emulator.url}/open-apis/authen/v2/oauth/token`, {
    grant_type: "authorization_code",
    client_id: app.app_id,
    client_secret: app.app_secret,
    code,
    ...extra,
  });
}

export function refreshAt(
  emulator: RunningEmulator,
  app: AppView,
  refreshToken: string,
  extra: Record<string, string> = {},
) {
  return post(`${emulator.url}/open-apis/authen/v2/oauth/token`, {
    grant_type: "refresh_token",
    client_id: app.app_id,
    client_secret: app.app_secret,
    refresh_token: refreshToken,
    ...extra,
  });
}

/** One app with a user, the usual starting point. */
export function appWithUser(
  emulator: RunningEmulator,
  appInput: Parameters<RunningEmulator["registerApp"]>[0] = {},
) {
  const app = emulator.registerApp({ redirect_urls: [REDIRECT_URI], ...appInput });
  const seed = randomBytes(4).toString("hex");
  const user = emulator.createUser({
    name: `User ${seed}`,
    seed,
    app_id: app.app_id,
    mobile: "+8613800000000",
  });
  return { app, user };
}
