import { CallCounter } from "./calls.js";
import { defaultConfig, type EmulatorConfig } from "./config.js";
import { FaultRegistry } from "./faults.js";
import { type ClientConfig, createLongConnectionHub, type LongConnectionHub } from "./longconn/hub.js";
import { RateLimiter } from "./rate-limit.js";
import { DeviceStore } from "./store/devices.js";
import { type AppRecord, Directory } from "./store/directory.js";
import { GrantStore } from "./store/grants.js";
import { MessageStore } from "./store/messages.js";
import { TenantTokens } from "./store/tenant-tokens.js";
import { deliverWebhook } from "./webhook/delivery.js";

/** What delivering one event or callback to an app produced. */
export interface DeliveryOutcome {
  acked: boolean;
  response?: unknown;
  attempts: number;
}

/** All emulator state plus the long-connection hub: one instance per running emulator, no globals. */
export interface EmulatorCore {
  config: EmulatorConfig;
  now(): number;
  /** Base URL browsers and SDKs use, without a trailing slash. */
  baseUrl(): string;
  directory: Directory;
  tenantTokens: TenantTokens;
  grants: GrantStore;
  devices: DeviceStore;
  messages: MessageStore;
  faults: FaultRegistry;
  calls: CallCounter;
  limiter: RateLimiter;
  hub: LongConnectionHub;
  /** Pushes an event to the app the way its subscription mode says (long connection or webhook). */
  deliver(app: AppRecord, payload: object): Promise<DeliveryOutcome>;
}

export interface CoreOptions {
  config?: Partial<EmulatorConfig>;
  now?: () => number;
  baseUrl: () => string;
  /** How long to wait for an event ACK before redelivering (3 s on Lark). */
  ackTimeoutMs?: number;
  /** Long-connection timings handed to SDK clients (seconds), e.g. fast reconnects for tests. */
  clientConfig?: Partial<ClientConfig>;
  /** Silence (ms) after which a long connection is closed; default twice its PingInterval plus 1 s. */
  wsIdleTimeoutMs?: number;
}

export function createCore(opts: CoreOptions): EmulatorCore {
  const directory = new Directory();
  const hub = createLongConnectionHub({
    authenticate: (appId, appSecret) => directory.app(appId)?.appSecret === appSecret,
    ackTimeoutMs: opts.ackTimeoutMs,
    publicWsUrl: () => `${opts.baseUrl().replace(/^http/, "ws")}/ws`,
    clientConfig: opts.clientConfig,
    idleTimeoutMs: opts.wsIdleTimeoutMs,
  });
  return {
    config: { ...defaultConfig, ...opts.config },
    now: opts.now ?? Date.now,
    baseUrl: opts.baseUrl,
    directory,
    tenantTokens: new TenantTokens(),
    grants: new GrantStore(),
    devices: new DeviceStore(),
    messages: new MessageStore(),
    faults: new FaultRegistry(),
    calls: new CallCounter(),
    limiter: new RateLimiter(),
    hub,
    deliver(app, payload) {
      if (app.eventMode === "webhook" && app.webhookUrl) {
        const target = {
          webhookUrl: app.webhookUrl,
          encryptKey: app.encryptKey,
          verificationToken: app.verificationToken,
        };
        return deliverWebhook(target, payload);
      }
      return hub.deliver(app.appId, payload);
    },
  };
}
