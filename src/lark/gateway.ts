import type { LarkAppConfig } from "../config/types.js";
import type { LarkGateway } from "../domain/ports.js";
import type { Logger } from "../telemetry/logger.js";
import { type CardActionHandler, type CardActionListener, startCardActionListener } from "./card-listener.js";
import { appOf, createLarkApps } from "./clients.js";
import { authorizeUrl } from "./endpoints.js";
import * as identity from "./identity.js";
import * as messages from "./messages.js";
import * as oauth from "./oauth.js";

/** The domain's gateway plus what only the composition root uses: the long connections. */
export interface LarkService extends LarkGateway {
  /** One long connection per call; `close()` it on shutdown. */
  startCardActionListener(appId: string, handler: CardActionHandler): CardActionListener;
}

/** The LarkGateway over the official node-sdk: one SDK client per configured app. */
export function createLarkGateway(deps: {
  apps: readonly LarkAppConfig[];
  logger: Logger;
  /** Per Lark HTTP call (default DEFAULT_LARK_HTTP_TIMEOUT_MS). */
  httpTimeoutMs?: number;
}): LarkService {
  const apps = createLarkApps(deps.apps, deps.logger, deps.httpTimeoutMs);
  const app = (appId: string) => appOf(apps, appId);
  return {
    sendCard: async (appId, to, card, uuid) => messages.sendCard(app(appId), to, card, uuid),
    updateCard: async (appId, messageId, card) => messages.updateCard(app(appId), messageId, card),
    buildAuthorizeUrl: (appId, req) => authorizeUrl(app(appId).endpoints, appId, req),
    exchangeCode: async (appId, req) => oauth.exchangeCode(app(appId), req),
    refreshToken: async (appId, token) => oauth.refreshToken(app(appId), token),
    startDeviceAuthorization: async (appId, scopes) => oauth.startDeviceAuthorization(app(appId), scopes),
    pollDeviceToken: async (appId, deviceCode) => oauth.pollDeviceToken(app(appId), deviceCode),
    getUserInfo: async (appId, accessToken) => identity.getUserInfo(app(appId), accessToken),
    getTenantAccessToken: async (appId) => identity.getTenantAccessToken(app(appId)),
    startCardActionListener: (appId, handler) => startCardActionListener(app(appId), handler, deps.logger),
  };
}
