import type { Logger } from "../telemetry/logger.js";
import { retryDelayMs } from "./backoff.js";

/**
 * Where an app's event delivery stands. `connecting` until the first connection, `reconnecting` after a
 * drop, `failed` once the reconnect attempts are spent (probing continues), `webhook` when the app's
 * events come over POST /lark/events instead (its mode, or the fallback after `failed`).
 */
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "failed" | "webhook";

export const CONNECTION_STATES: readonly ConnectionState[] = [
  "connecting",
  "connected",
  "reconnecting",
  "failed",
  "webhook",
];

/** The reconnect settings Lark sends at bootstrap and in every pong, in milliseconds (count: -1 unlimited). */
export interface PlatformSettings {
  readonly reconnectCount: number;
  readonly reconnectIntervalMs: number;
  readonly reconnectNonceMs: number;
}

/** One dial of the long connection (one SDK client): reports once whether it came up. */
export interface Link {
  /** True while its socket is open. */
  isOpen(): boolean;
  /** What Lark last said about reconnecting, once it said anything. */
  platform(): PlatformSettings | undefined;
  close(): void;
}

export interface LinkHooks {
  onReady(): void;
  onFailed(err: Error): void;
}

export type OpenLink = (hooks: LinkHooks) => Link;

export interface SupervisorOptions {
  /** Failed attempts in a row before the state is `failed` (Lark's ReconnectCount may lower it). */
  readonly maxReconnectAttempts: number;
  readonly baseDelayMs: number;
  /** The back-off cap (Lark's ReconnectInterval may lower it). */
  readonly maxDelayMs: number;
  /** How often the open link is checked; a drop is noticed within this. */
  readonly heartbeatIntervalMs: number;
  /** Report `webhook` instead of `failed` once the attempts are spent. */
  readonly fallbackToWebhook: boolean;
}

export interface SupervisorDeps {
  readonly appId: string;
  readonly open: OpenLink;
  readonly options: SupervisorOptions;
  readonly logger: Logger;
  /** Every change of state, the first (`connecting`) included. */
  readonly onState?: (state: ConnectionState) => void;
  /** A connection that was up went down. */
  readonly onDrop?: () => void;
  /** Injected for tests; default Math.random. */
  readonly random?: () => number;
}

export interface Supervisor {
  state(): ConnectionState;
  close(): void;
}

/**
 * Keeps one app's long connection up: dials, notices drops on a heartbeat, and redials with capped
 * exponential back-off and jitter (about 1 s, 2 s, 4 s ... up to the cap), honouring what Lark sends:
 * its ReconnectNonce spreads the first redial after a drop (so replicas dropped together do not come
 * back together), its ReconnectInterval caps the back-off and its ReconnectCount bounds the attempts
 * before `failed`. After `failed` it keeps probing at the cap: the connection comes back by itself.
 * State changes are logged once each, never per attempt.
 */
export function superviseConnection(deps: SupervisorDeps): Supervisor {
  const { options } = deps;
  const random = deps.random ?? Math.random;
  const log = deps.logger.child({ component: "lark-long-connection", app_id: deps.appId });
  let state: ConnectionState = "connecting";
  let link: Link | undefined;
  let lastPlatform: PlatformSettings | undefined;
  let failures = 0;
  let everConnected = false;
  let closed = false;
  let redial: NodeJS.Timeout | undefined;

  function enter(next: ConnectionState, fields: Record<string, unknown> = {}): void {
    if (next === state) return;
    const from = state;
    state = next;
    deps.onState?.(next);
    const line = { ...fields, from, to: next };
    if (next === "connected") log.info(line, "Lark long connection up");
    else if (next === "failed" || next === "webhook")
      log.error(line, "Lark long connection failed; still retrying at the longest back-off");
    else log.warn(line, "Lark long connection down; reconnecting");
  }

  function settings(): PlatformSettings | undefined {
    lastPlatform = link?.platform() ?? lastPlatform;
    return lastPlatform;
  }

  function maxAttempts(): number {
    const count = settings()?.reconnectCount ?? -1;
    return count >= 0
      ? Math.max(1, Math.min(options.maxReconnectAttempts, count))
      : options.maxReconnectAttempts;
  }

  function capMs(): number {
    const interval = settings()?.reconnectIntervalMs ?? 0;
    return interval > 0
      ? Math.min(options.maxDelayMs, Math.max(options.baseDelayMs, interval))
      : options.maxDelayMs;
  }

  function schedule(ms: number): void {
    clearTimeout(redial);
    redial = setTimeout(dial, ms);
    redial.unref();
  }

  function dial(): void {
    if (closed) return;
    const current = deps.open({
      onReady: () => {
        if (closed || link !== current) return;
        failures = 0;
        everConnected = true;
        enter("connected");
      },
      onFailed: (err) => {
        if (closed || link !== current) return;
        current.close();
        failed(err);
      },
    });
    link = current;
  }

  function failed(err: Error): void {
    failures++;
    const limit = maxAttempts();
    const exhausted = failures >= limit;
    const delay = retryDelayMs(
      Math.min(failures, 30),
      undefined,
      { maxAttempts: Number.POSITIVE_INFINITY, baseDelayMs: options.baseDelayMs, maxDelayMs: capMs() },
      random,
    ) as number;
    const waiting = exhausted ? (options.fallbackToWebhook ? "webhook" : "failed") : undefined;
    enter(waiting ?? (everConnected ? "reconnecting" : "connecting"), {
      attempts: failures,
      max_attempts: limit,
      // The SDK's message only (a bootstrap code, "connect failed"): never its request.
      reason: err.message,
    });
    schedule(delay);
  }

  /** A drop: redial after a share of Lark's nonce (at most one base delay), counted as no failure. */
  function heartbeat(): void {
    if (closed || state !== "connected" || !link || link.isOpen()) return;
    settings();
    link.close();
    link = undefined;
    deps.onDrop?.();
    enter("reconnecting");
    const spread = Math.min(lastPlatform?.reconnectNonceMs ?? options.baseDelayMs, options.baseDelayMs);
    schedule(Math.round(random() * spread));
  }

  const beat = setInterval(heartbeat, options.heartbeatIntervalMs);
  beat.unref();
  deps.onState?.(state);
  dial();
  return {
    state: () => state,
    close() {
      closed = true;
      clearInterval(beat);
      clearTimeout(redial);
      link?.close();
      link = undefined;
    },
  };
}
