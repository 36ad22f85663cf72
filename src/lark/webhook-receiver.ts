import type * as lark from "@larksuiteoapi/node-sdk";
import type { Logger } from "../telemetry/logger.js";
import { type EventMetrics, NotAcknowledged } from "./inbound.js";
import { createWebhookVerifier, type WebhookApp, type WebhookRefusal } from "./webhook.js";

/** What the HTTP route writes back. */
export interface WebhookAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface WebhookReceiverDeps {
  readonly apps: readonly WebhookApp[];
  /** The app's webhook dispatcher (lark/inbound.ts), the same handlers as its long connection. */
  readonly dispatcherOf: (appId: string) => lark.EventDispatcher | undefined;
  /** Events are taken only while this says so (webhook mode, or the long connection's fallback). */
  readonly accepting: (appId: string) => boolean;
  readonly maxSkewSeconds: number;
  readonly logger: Logger;
  readonly metrics?: EventMetrics;
  readonly now?: () => number;
}

const REFUSED_STATUS: Record<WebhookRefusal, number> = {
  malformed: 400,
  unknown_app: 401,
  bad_signature: 401,
  bad_token: 401,
  not_encrypted: 401,
  stale: 401,
  replayed: 409,
};

/**
 * POST /lark/events, transport-free: verifies the request (lark/webhook.ts), answers URL verification,
 * and hands events to the app's dispatcher. Refusals say only their kind; a forged request learns
 * nothing about which check it failed beyond that. An event still being handled elsewhere is answered
 * 503, so Lark redelivers it instead of taking it as done.
 */
export function createWebhookReceiver(deps: WebhookReceiverDeps) {
  const verify = createWebhookVerifier(deps.apps, { maxSkewSeconds: deps.maxSkewSeconds, now: deps.now });
  const log = deps.logger.child({ component: "lark-webhook" });
  const refusals = refusalLog(log, deps.now ?? Date.now);
  return async function receive(req: {
    headers: Readonly<Record<string, string | string[] | undefined>>;
    body: string;
  }): Promise<WebhookAnswer> {
    const verdict = verify(req);
    if (!verdict.ok) {
      refusals.note(verdict.refusal);
      return { status: REFUSED_STATUS[verdict.refusal], body: { error: verdict.refusal } };
    }
    const { app, envelope } = verdict;
    if (envelope.type === "url_verification") return { status: 200, body: { challenge: envelope.challenge } };
    const dispatcher = deps.dispatcherOf(app.appId);
    if (!dispatcher || !deps.accepting(app.appId)) {
      verdict.forget();
      deps.metrics?.received(app.appId, "webhook", "rejected");
      log.warn({ app_id: app.appId }, "Lark webhook event for an app on its long connection; refused");
      return { status: 409, body: { error: "long_connection_mode" } };
    }
    try {
      const result: unknown = await dispatcher.invoke(envelope, { needCheck: false });
      // The SDK answers an event type nobody registered with a bare "no <type> event handle".
      if (typeof result === "string") {
        deps.metrics?.received(app.appId, "webhook", "ignored");
        return { status: 200, body: {} };
      }
      return { status: 200, body: result ?? {} };
    } catch (err) {
      // Lark retries a failed delivery, possibly with the same timestamp and nonce: let it through.
      verdict.forget();
      if (err instanceof NotAcknowledged) return { status: 503, body: { error: "busy" } };
      log.error({ err, app_id: app.appId }, "Lark webhook event failed");
      return { status: 500, body: { error: "internal" } };
    }
  };
}

/**
 * Logs refused requests at most once a minute per kind, with how many there were: anyone can post
 * forged requests, and one warn line each would let them flood the logs.
 */
function refusalLog(log: Logger, now: () => number) {
  const last = new Map<WebhookRefusal, { at: number; suppressed: number }>();
  return {
    note(refusal: WebhookRefusal): void {
      const t = now();
      const entry = last.get(refusal);
      if (entry && t - entry.at < 60_000) {
        entry.suppressed++;
        return;
      }
      log.warn({ refusal, suppressed: entry?.suppressed ?? 0 }, "Lark webhook request refused");
      last.set(refusal, { at: t, suppressed: 0 });
    },
  };
}
