import { setTimeout as sleep } from "node:timers/promises";
import * as lark from "@larksuiteoapi/node-sdk";
import type { EventInbox, InboundEventKey, InboxClaim } from "../domain/inbox.js";
import type { Logger } from "../telemetry/logger.js";
import {
  type CardActionAnswer,
  type CardActionHandler,
  type RawCardAction,
  toAction,
  toResponse,
} from "./card-callback.js";
import { sdkLogger, sdkLoggerLevel } from "./sdk-logger.js";

/** How an event reached us: label values of lark_auth_lark_events_received_total. */
export type EventSource = "long_connection" | "webhook";

/**
 * What became of one delivery: `handled` (ran now), `duplicate` (done before: the same answer again),
 * `busy` (another handler holds it: not acknowledged), `failed` (the handler or the inbox threw),
 * `rejected` (a webhook request that failed its checks), `ignored` (an event type we do not handle).
 */
export type EventOutcome = "handled" | "duplicate" | "busy" | "failed" | "rejected" | "ignored";

export interface EventMetrics {
  received(appId: string, source: EventSource, outcome: EventOutcome): void;
}

export interface InboundDeps {
  readonly inbox: EventInbox;
  readonly onCardAction: CardActionHandler;
  readonly logger: Logger;
  readonly metrics?: EventMetrics;
  /** How long a claim holds off other replicas (default 30 s: ten of Lark's 3 s redeliveries). */
  readonly leaseMs?: number;
  /** How long a redelivery waits for the handler already on its event (default 2 s). */
  readonly busyWaitMs?: number;
  readonly now?: () => Date;
}

const DEFAULT_LEASE_MS = 30_000;
/** Below Lark's 3 s deadline, so a redelivery that waits still answers in time. */
const DEFAULT_BUSY_WAIT_MS = 2_000;
const BUSY_POLL_MS = 100;

const FAILED: CardActionAnswer = {
  toast: { type: "error", content: "Something went wrong. Please try again." },
};

/** The flattened event the SDK's dispatcher hands a handler: header fields beside the event's. */
interface Flat {
  event_id?: unknown;
  event_type?: unknown;
}

/** Thrown so the transport does not acknowledge: the SDK ACKs code 500, the webhook answers 503. */
export class NotAcknowledged extends Error {}

/**
 * The one entry for what Lark delivers to an app, whichever the transport: an SDK EventDispatcher
 * (long connection and webhook alike hand it the decrypted envelope) whose `card.action.trigger`
 * runs at most once per event id across replicas. A redelivery of a done event gets the stored answer;
 * one still being handled elsewhere is not acknowledged (Lark asks again); a handler that throws gets
 * its claim released (a redelivery runs it again) and the clicker an error toast, since someone is
 * waiting on the click and a fresh click is a fresh event.
 */
export function createInboundDispatcher(
  appId: string,
  source: EventSource,
  deps: InboundDeps,
): lark.EventDispatcher {
  const log = deps.logger.child({ component: "lark-events", app_id: appId, source });
  const now = deps.now ?? (() => new Date());
  const count = (outcome: EventOutcome) => deps.metrics?.received(appId, source, outcome);
  const options = { logger: sdkLogger(deps.logger), loggerLevel: sdkLoggerLevel(deps.logger) };

  const claimOf = (key: InboundEventKey) =>
    deps.inbox.claim(key, "card.action.trigger", now(), deps.leaseMs ?? DEFAULT_LEASE_MS);

  /**
   * A redelivery of an event another handler is still on (Lark pushes again after 3 s): wait a little
   * for its answer, so the clicker gets it; claims the event if that handler gave it up meanwhile.
   */
  async function awaitOther(key: InboundEventKey): Promise<InboxClaim> {
    const until = Date.now() + (deps.busyWaitMs ?? DEFAULT_BUSY_WAIT_MS);
    for (;;) {
      await sleep(BUSY_POLL_MS);
      const claim = await claimOf(key);
      if (claim.kind !== "busy" || Date.now() >= until) return claim;
    }
  }

  async function once(raw: RawCardAction & Flat): Promise<Record<string, unknown>> {
    const eventId = typeof raw.event_id === "string" && raw.event_id !== "" ? raw.event_id : undefined;
    const run = async () => toResponse(await deps.onCardAction(toAction(appId, raw)));
    if (!eventId) {
      // Lark always sends one; without it there is nothing to de-duplicate on, and the decline is idempotent.
      log.warn("card action without an event id");
      count("handled");
      return run();
    }
    const key: InboundEventKey = { appId, eventId };
    let claim: InboxClaim;
    try {
      claim = await claimOf(key);
      if (claim.kind === "busy") claim = await awaitOther(key);
    } catch (err) {
      count("failed");
      log.error({ err, event_id: eventId }, "card action not handled: the inbox is unavailable");
      return toResponse(FAILED);
    }
    if (claim.kind === "done") {
      count("duplicate");
      return claim.answer === undefined ? {} : (JSON.parse(claim.answer) as Record<string, unknown>);
    }
    if (claim.kind === "busy") {
      count("busy");
      throw new NotAcknowledged(`event ${eventId} is being handled by another handler`);
    }
    try {
      const response = await run();
      await deps.inbox.complete(key, JSON.stringify(response), now());
      count("handled");
      return response;
    } catch (err) {
      count("failed");
      log.error({ err, event_id: eventId }, "card action handler failed");
      await deps.inbox
        .release(key, claim.lease)
        .catch((e: unknown) => log.error({ err: e, event_id: eventId }, "releasing a failed event failed"));
      return toResponse(FAILED);
    }
  }

  return new lark.EventDispatcher(options).register({ "card.action.trigger": once });
}
