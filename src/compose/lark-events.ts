import type { LarkAppConfig, LarkEventOptions } from "../config/types.js";
import type { EventInbox } from "../domain/inbox.js";
import type { CardActionHandler } from "../lark/card-callback.js";
import { type ConnectionState, type Supervisor, superviseConnection } from "../lark/connection-supervisor.js";
import type { LarkService } from "../lark/gateway.js";
import { createInboundDispatcher } from "../lark/inbound.js";
import { createWebhookReceiver } from "../lark/webhook-receiver.js";
import { createLarkEventMetrics } from "../telemetry/lark-event-metrics.js";
import type { Logger } from "../telemetry/logger.js";

export interface LarkEventsDeps {
  readonly apps: readonly LarkAppConfig[];
  readonly gateway: LarkService;
  readonly inbox: EventInbox;
  readonly onCardAction: CardActionHandler;
  readonly options: LarkEventOptions;
  readonly logger: Logger;
}

/**
 * Everything Lark delivers, per configured app: a supervised long connection (or, in webhook mode,
 * none), the webhook receiver, and the metrics. Each app has its own supervisor, dispatchers and
 * circuit: one app's bad secret or outage leaves the others alone.
 */
export function createLarkEvents(deps: LarkEventsDeps) {
  const { apps, options, logger } = deps;
  const metrics = createLarkEventMetrics(apps.map((a) => a.appId));
  const inbound = { inbox: deps.inbox, onCardAction: deps.onCardAction, logger, metrics };
  const webhookDispatchers = new Map(
    apps.map((a) => [a.appId, createInboundDispatcher(a.appId, "webhook", inbound)] as const),
  );
  const supervisors = new Map<string, Supervisor>();
  const isWebhookApp = (app: LarkAppConfig) => app.eventMode === "webhook";
  const stateOf = (appId: string): ConnectionState => supervisors.get(appId)?.state() ?? "webhook";
  const receive = createWebhookReceiver({
    apps: apps.map((a) => ({
      appId: a.appId,
      ...(a.verificationToken && { verificationToken: a.verificationToken }),
      ...(a.encryptKey && { encryptKey: a.encryptKey }),
    })),
    dispatcherOf: (appId) => webhookDispatchers.get(appId),
    accepting: (appId) => stateOf(appId) === "webhook",
    maxSkewSeconds: options.webhookMaxSkewSeconds,
    logger,
    metrics,
  });

  return {
    metrics,
    receive,
    /** Per app: where its event delivery stands (for /readyz details). */
    states: (): Record<string, ConnectionState> =>
      Object.fromEntries(apps.map((a) => [a.appId, stateOf(a.appId)])),
    start(): void {
      for (const app of apps) {
        if (isWebhookApp(app)) {
          metrics.connectionState(app.appId, "webhook");
          continue;
        }
        const dispatcher = createInboundDispatcher(app.appId, "long_connection", inbound);
        supervisors.set(
          app.appId,
          superviseConnection({
            appId: app.appId,
            open: deps.gateway.longConnection(app.appId, dispatcher, options.pongTimeoutSeconds),
            options: {
              maxReconnectAttempts: options.maxReconnectAttempts,
              baseDelayMs: options.reconnectBaseDelayMs,
              maxDelayMs: options.reconnectMaxDelayMs,
              heartbeatIntervalMs: options.heartbeatIntervalMs,
              fallbackToWebhook: options.fallbackToWebhook,
            },
            logger,
            onState: (state) => metrics.connectionState(app.appId, state),
            onDrop: () => metrics.reconnect(app.appId),
          }),
        );
      }
    },
    close(): void {
      for (const s of supervisors.values()) s.close();
      supervisors.clear();
    },
  };
}

export type LarkEvents = ReturnType<typeof createLarkEvents>;
