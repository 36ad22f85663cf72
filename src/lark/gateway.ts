import type * as lark from "@larksuiteoapi/node-sdk";
import type { Tracer } from "@opentelemetry/api";
import type { LarkAppConfig } from "../config/types.js";
import type { LarkGateway } from "../domain/ports.js";
import type { LarkCallMetrics } from "../telemetry/lark-call-metrics.js";
import type { Logger } from "../telemetry/logger.js";
import {
  type CallPacer,
  type CallPolicyOptions,
  createCallPolicy,
  type LarkOperation,
} from "./call-policy.js";
import { appOf, createLarkApps, type LarkApp } from "./clients.js";
import type { OpenLink } from "./connection-supervisor.js";
import { authorizeUrl } from "./endpoints.js";
import * as identity from "./identity.js";
import { longConnection } from "./long-connection.js";
import * as messages from "./messages.js";
import * as oauth from "./oauth.js";

/** The domain's gateway plus what only the composition root uses: the long connections. */
export interface LarkService extends LarkGateway {
  /** How to dial the app's long connection, its events going to `dispatcher` (lark/long-connection.ts). */
  longConnection(appId: string, dispatcher: lark.EventDispatcher, pongTimeoutSeconds: number): OpenLink;
}

/** The LarkGateway over the official node-sdk: one SDK client per configured app. */
export function createLarkGateway(deps: {
  apps: readonly LarkAppConfig[];
  logger: Logger;
  /** Per Lark HTTP call (default DEFAULT_LARK_HTTP_TIMEOUT_MS). */
  httpTimeoutMs?: number;
  /** Retries and circuit breaker of every outbound call (default DEFAULT_CALL_POLICY). */
  policy?: Partial<CallPolicyOptions>;
  metrics?: LarkCallMetrics;
  tracer?: Tracer;
  /** Paces the calls the jobs do not (user info, tenant tokens) and every retry; keys `<app>\n<operation>`. */
  pacer?: CallPacer;
}): LarkService {
  const apps = createLarkApps(deps.apps, deps.logger, deps.httpTimeoutMs);
  const app = (appId: string) => appOf(apps, appId);
  const policy = createCallPolicy({
    appIds: [...apps.keys()],
    logger: deps.logger,
    options: deps.policy,
    metrics: deps.metrics,
    tracer: deps.tracer,
    pacer: deps.pacer,
  });
  /** Every outbound call goes through here: the app is resolved first, so only configured apps reach the policy. */
  const call = async <T>(
    appId: string,
    op: LarkOperation,
    fn: (a: LarkApp) => Promise<T>,
    retry?: boolean,
  ) => {
    const a = app(appId);
    return policy.run(appId, op, () => fn(a), { retry });
  };
  return {
    // Without a uuid a repeated create could deliver twice; with one Lark delivers at most once.
    sendCard: (appId, to, card, uuid) =>
      call(appId, "im.message.create", (a) => messages.sendCard(a, to, card, uuid), uuid !== undefined),
    updateCard: (appId, messageId, card) =>
      call(appId, "im.message.patch", (a) => messages.updateCard(a, messageId, card)),
    buildAuthorizeUrl: (appId, req) => authorizeUrl(app(appId).endpoints, appId, req),
    exchangeCode: (appId, req) =>
      call(appId, "authen.oauth_token.authorization_code", (a) => oauth.exchangeCode(a, req)),
    refreshToken: (appId, token) =>
      call(appId, "authen.oauth_token.refresh_token", (a) => oauth.refreshToken(a, token)),
    startDeviceAuthorization: (appId, scopes) =>
      call(appId, "authen.device_authorization", (a) => oauth.startDeviceAuthorization(a, scopes)),
    pollDeviceToken: (appId, deviceCode) =>
      call(appId, "authen.oauth_token.device_code", (a) => oauth.pollDeviceToken(a, deviceCode)),
    getUserInfo: (appId, accessToken) =>
      call(appId, "authen.user_info", (a) => identity.getUserInfo(a, accessToken)),
    getTenantAccessToken: (appId) =>
      call(appId, "auth.tenant_access_token", (a) => identity.getTenantAccessToken(a)),
    longConnection: (appId, dispatcher, pongTimeoutSeconds) =>
      longConnection(app(appId), dispatcher, deps.logger, pongTimeoutSeconds),
  };
}
