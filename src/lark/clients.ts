import * as lark from "@larksuiteoapi/node-sdk";
import type { LarkAppConfig } from "../config/types.js";
import { LarkError } from "../domain/lark-error.js";
import type { Logger } from "../telemetry/logger.js";
import { type LarkEndpoints, resolveEndpoints } from "./endpoints.js";
import { sdkLogger, sdkLoggerLevel } from "./sdk-logger.js";

/** One configured app with its SDK client and where its Lark lives. */
export interface LarkApp {
  readonly config: LarkAppConfig;
  readonly client: lark.Client;
  readonly endpoints: LarkEndpoints;
  readonly cache: ClientCache;
}

/**
 * The SDK's default token cache is one module-level map shared by every client in the process; a cache
 * per client keeps two deployments (or a test's emulators) with the same app id from sharing tokens.
 */
export class ClientCache {
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
  /** When the SDK stops reusing this app's cached tenant token (Lark's expiry minus its 3-min margin). */
  tenantTokenExpiry(appId: string): Date | undefined {
    const hit = this.#values.get(`${appId}/${String(TENANT_TOKEN_KEY)}`);
    return hit?.expire === undefined ? undefined : new Date(hit.expire);
  }
}

/** The key the SDK's token manager caches the tenant token under (a Symbol, compared by description). */
const TENANT_TOKEN_KEY = "Symbol(tenant-access-token)";

/**
 * How long one Lark HTTP call may take, in milliseconds. The SDK's axios instance has no time-out, so
 * a connection that never answers would hold a card worker, a job tick or a browser's callback forever.
 */
export const DEFAULT_LARK_HTTP_TIMEOUT_MS = 10_000;

/**
 * The SDK's own HTTP instance (its interceptors unwrap `data`, set the user agent) with a time-out on
 * every request that does not set its own. A timed-out call is an axios ECONNABORTED: transient.
 */
export function withTimeout(base: lark.HttpInstance, timeoutMs: number): lark.HttpInstance {
  const t = <O extends lark.HttpRequestOptions<unknown>>(opts?: O) => ({
    ...opts,
    timeout: opts?.timeout || timeoutMs,
  });
  return {
    request: (opts) => base.request(t(opts)),
    get: (url, opts) => base.get(url, t(opts)),
    delete: (url, opts) => base.delete(url, t(opts)),
    head: (url, opts) => base.head(url, t(opts)),
    options: (url, opts) => base.options(url, t(opts)),
    post: (url, data, opts) => base.post(url, data, t(opts)),
    put: (url, data, opts) => base.put(url, data, t(opts)),
    patch: (url, data, opts) => base.patch(url, data, t(opts)),
  };
}

/** One SDK client per configured app, all logging through our redacting logger. */
export function createLarkApps(
  apps: readonly LarkAppConfig[],
  logger: Logger,
  httpTimeoutMs = DEFAULT_LARK_HTTP_TIMEOUT_MS,
): Map<string, LarkApp> {
  const sdkLog = sdkLogger(logger);
  const level = sdkLoggerLevel(logger);
  // Typed as axios's instance; its response interceptor makes it the SDK's HttpInstance at run time.
  const sdkHttp = lark.defaultHttpInstance as unknown as lark.HttpInstance;
  const httpInstance = withTimeout(sdkHttp, httpTimeoutMs);
  return new Map(
    apps.map((config) => {
      const endpoints = resolveEndpoints(config.domain);
      const cache = new ClientCache();
      const client = new lark.Client({
        appId: config.appId,
        appSecret: config.appSecret,
        domain: endpoints.sdkDomain,
        // Only used by the SDK's v3 OAuth helper; set so it never throws for a custom domain.
        oauthBaseUrl: endpoints.accountsBase,
        cache,
        httpInstance,
        logger: sdkLog,
        loggerLevel: level,
      });
      return [config.appId, { config, client, endpoints, cache }] as const;
    }),
  );
}

/** The app or a terminal LarkError: an app id the service was not configured with. */
export function appOf(apps: ReadonlyMap<string, LarkApp>, appId: string): LarkApp {
  const app = apps.get(appId);
  if (!app) throw new LarkError({ code: 0, kind: "terminal", message: `app ${appId} is not configured` });
  return app;
}
