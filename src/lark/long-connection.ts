import * as lark from "@larksuiteoapi/node-sdk";
import type { Logger } from "../telemetry/logger.js";
import type { LarkApp } from "./clients.js";
import type { OpenLink, PlatformSettings } from "./connection-supervisor.js";
import { sdkLogger, sdkLoggerLevel } from "./sdk-logger.js";

/** A WebSocket upgrade that neither opens nor fails within this is abandoned (stuck proxy, NAT). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The SDK keeps what Lark sent in a private field; read defensively, absent on any other shape. */
interface SdkWsConfig {
  wsConfig?: {
    getWS?: () => { reconnectCount?: unknown; reconnectInterval?: unknown; reconnectNonce?: unknown };
  };
}

const finite = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function platformSettings(ws: lark.WSClient): PlatformSettings | undefined {
  const raw = (ws as unknown as SdkWsConfig).wsConfig?.getWS?.();
  const reconnectCount = finite(raw?.reconnectCount);
  const reconnectIntervalMs = finite(raw?.reconnectInterval);
  const reconnectNonceMs = finite(raw?.reconnectNonce);
  if (reconnectCount === undefined || reconnectIntervalMs === undefined || reconnectNonceMs === undefined)
    return undefined;
  return { reconnectCount, reconnectIntervalMs, reconnectNonceMs };
}

/**
 * Dials the app's long connection with the node-sdk's WSClient, one client per dial and its own
 * reconnection off: the supervisor owns back-off and state. The SDK still pings at the interval Lark
 * sends, and cuts a socket that stays silent `pongTimeoutSeconds` after a ping (a half-open link).
 * Its per-attempt logging is demoted to debug: the supervisor logs each change of state once.
 */
export function longConnection(
  app: LarkApp,
  dispatcher: lark.EventDispatcher,
  logger: Logger,
  pongTimeoutSeconds: number,
): OpenLink {
  const quiet = logger.child({ component: "lark-long-connection", app_id: app.config.appId });
  return (hooks) => {
    const ws = new lark.WSClient({
      appId: app.config.appId,
      appSecret: app.config.appSecret,
      domain: app.endpoints.sdkDomain,
      logger: sdkLogger(quiet, { demote: true }),
      loggerLevel: sdkLoggerLevel(quiet),
      autoReconnect: false,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      wsConfig: { pingTimeout: pongTimeoutSeconds },
      onReady: hooks.onReady,
      onError: hooks.onFailed,
    });
    void ws.start({ eventDispatcher: dispatcher });
    return {
      isOpen: () => ws.getConnectionStatus().state === "connected",
      platform: () => platformSettings(ws),
      close: () => ws.close({ force: true }),
    };
  };
}
