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

/** One SDK client per configured app, all logging through our redacting logger. */
export function createLarkApps(apps: readonly LarkAppConfig[], logger: Logger): Map<string, LarkApp> {
  const sdkLog = sdkLogger(logger);
  const level = sdkLoggerLevel(logger);
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
