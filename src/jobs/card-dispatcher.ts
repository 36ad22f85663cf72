import type { Clock, SentCard } from "../domain/ports.js";
import type { AuthSession } from "../domain/sessions/session.js";
import {
  type BuildCard,
  type BuildResultCard,
  type CardInputs,
  type CardWork,
  type CardWorkStore,
  isTerminal,
  type JobsGateway,
  safeFailure,
} from "./card-work.js";
import { backoffMs } from "./clock.js";
import { type LarkLimiters, messageKey, userKey } from "./limits.js";
import type { Job, JobLogger } from "./runner.js";

export interface CardDispatcherOptions {
  /** How long a claim holds a session before another replica may take it over (default 120 s). */
  readonly leaseMs?: number;
  /** Sessions one recovery sweep claims (default 50). */
  readonly batchSize?: number;
  /** Failed attempts before giving up: the session FAILS with CARD_DELIVERY_FAILED (default 8). */
  readonly maxAttempts?: number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /** Cards in flight per app from notify(); the limiter decides the pace (default 8). */
  readonly concurrencyPerApp?: number;
  /** Recovery sweep interval (default 5 s). */
  readonly sweepIntervalMs?: number;
}

export interface CardDispatcherDeps {
  readonly store: CardWorkStore;
  readonly gateway: JobsGateway;
  readonly limiters: Pick<LarkLimiters, "messages" | "perUser" | "token">;
  readonly buildCard: BuildCard;
  readonly buildResultCard: BuildResultCard;
  readonly clock: Clock;
  readonly logger: JobLogger;
  readonly options?: CardDispatcherOptions;
}

/** The design's CardQueue, plus the recovery job and a shutdown hook. */
export interface CardDispatcher {
  /**
   * Wakes delivery of one session's card (new card, or the card must now show a final state).
   * Never throws and never blocks: work goes on a per-app in-process queue drained through the
   * limiters. Safe to call twice or for a session another replica handles (claims decide).
   */
  notify(appId: string, sessionId: string): void;
  /** The recovery sweep for the job runner: due work left by crashes, retries and other replicas. */
  readonly job: Job;
  /** Stops taking notify() work, aborts waits, and waits for cards in flight at most `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

type Stage = "device" | "deliver" | "update";

/**
 * Delivers authorization cards and keeps them in step with their sessions, at most once per card
 * across replicas: a session is worked on only by whoever claimed it (a lease on
 * `card_next_attempt_time`), Lark calls happen outside transactions, and the send's uuid is the
 * session id so a repeated send after a crash is de-duplicated by Lark.
 */
export function createCardDispatcher(deps: CardDispatcherDeps): CardDispatcher {
  const o = deps.options ?? {};
  const leaseMs = o.leaseMs ?? 120_000;
  const maxAttempts = o.maxAttempts ?? 8;
  const concurrency = o.concurrencyPerApp ?? 8;
  const closing = new AbortController();
  const queues = new Map<string, { ids: Set<string>; workers: number }>();
  const inFlight = new Set<Promise<void>>();
  const now = () => deps.clock.now();

  const process = (work: CardWork, signal: AbortSignal): Promise<void> => {
    const s = work.session;
    if (s.state === "PENDING" && !s.cardMessageId) return deliver(work, signal);
    if (s.state !== "PENDING" && s.cardMessageId && work.syncedState !== s.state) return update(work, signal);
    return deps.store.settle(s.id);
  };

  const deliver = async (work: CardWork, signal: AbortSignal): Promise<void> => {
    let stage: Stage = "device";
    try {
      let { session, inputs } = work;
      if (session.flow === "DEVICE" && !session.authorizeUrl)
        ({ session, inputs } = await startDevice(session, inputs, signal));
      stage = "deliver";
      const card = deps.buildCard(session, inputs);
      const userDone = await deps.limiters.perUser.admit(userKey(session.appId, session.user.value), {
        signal,
      });
      const appDone = await deps.limiters.messages.admit(messageKey(session.appId, "create"), { signal });
      // Counted until Lark answered (a send started in one second may arrive in the next), or
      // from the message's create_time when the answer has one: when Lark itself counted it.
      let sent: SentCard | undefined;
      try {
        sent = await deps.gateway.sendCard(session.appId, session.user, card, session.id);
      } finally {
        const at = sent?.createTime?.getTime();
        appDone(at);
        userDone(at);
      }
      await deps.store.markSent(session.id, sent, now());
    } catch (err) {
      await onFailure(work, stage, err, signal);
    }
  };

  /** Asks Lark for a device code; the card shows its verification URL and user code. */
  const startDevice = async (session: AuthSession, inputs: CardInputs, signal: AbortSignal) => {
    await deps.limiters.token.acquire(`${session.appId}\ndevice-authorization`, { signal });
    const d = await deps.gateway.startDeviceAuthorization(session.appId, session.requestedScopes);
    const authorizeUrl = d.verificationUriComplete;
    const nextPollTime = new Date(now().getTime() + d.interval * 1000);
    await deps.store.saveDeviceAuthorization(session.id, {
      deviceCode: d.deviceCode,
      authorizeUrl,
      userCode: d.userCode,
      intervalSeconds: d.interval,
      nextPollTime,
    });
    return { session: { ...session, authorizeUrl }, inputs: { ...inputs, userCode: d.userCode } };
  };

  const update = async (work: CardWork, signal: AbortSignal): Promise<void> => {
    const s = work.session;
    try {
      // Lark allows 5 updates per second per message; one session updates its card once or twice.
      const done = await deps.limiters.messages.admit(messageKey(s.appId, "patch"), { signal });
      await deps.gateway
        .updateCard(s.appId, s.cardMessageId as string, deps.buildResultCard(s))
        .finally(done);
      await deps.store.markSynced(s.id, s.state, now());
    } catch (err) {
      await onFailure(work, "update", err, signal);
    }
  };

  /** Terminal or out of attempts: a card never delivered fails its session; a stale card is left stale. */
  const onFailure = async (
    work: CardWork,
    stage: Stage,
    err: unknown,
    signal: AbortSignal,
  ): Promise<void> => {
    // Stopping: leave the lease to lapse, the next owner retries.
    if (signal.aborted) return;
    const id = work.session.id;
    const attempts = work.attempts + 1;
    const log = { err, sessionId: id, appId: work.session.appId, stage, attempts };
    try {
      if (!isTerminal(err) && attempts < maxAttempts) {
        const delay = backoffMs(attempts - 1, o.backoffBaseMs ?? 2000, o.backoffCapMs ?? 300_000);
        deps.logger.warn(log, "card work failed; retrying");
        return await deps.store.reschedule(id, attempts, new Date(now().getTime() + delay));
      }
      deps.logger.error(log, "card work failed for good");
      if (stage === "update") return await deps.store.settle(id);
      const reason = stage === "device" ? "LARK_ERROR" : "CARD_DELIVERY_FAILED";
      await deps.store.fail(id, reason, safeFailure(err), now());
    } catch (storeErr) {
      deps.logger.error(
        { err: storeErr, sessionId: id },
        "recording a card failure failed; the lease will lapse",
      );
    }
  };

  const drain = async (appId: string, queue: { ids: Set<string>; workers: number }): Promise<void> => {
    for (const id of queue.ids) {
      queue.ids.delete(id);
      if (closing.signal.aborted) break;
      try {
        const work = await deps.store.claim(id, now(), leaseMs);
        if (work) await process(work, closing.signal);
      } catch (err) {
        deps.logger.error({ err, sessionId: id, appId }, "card work failed; the recovery sweep retries");
      }
    }
    queue.workers--;
    if (queue.workers === 0 && queue.ids.size === 0) queues.delete(appId);
  };

  const track = (p: Promise<void>): void => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  return {
    notify(appId, sessionId) {
      if (closing.signal.aborted) return;
      const queue = queues.get(appId) ?? { ids: new Set<string>(), workers: 0 };
      queues.set(appId, queue);
      queue.ids.add(sessionId);
      if (queue.workers >= concurrency) return;
      queue.workers++;
      track(drain(appId, queue));
    },
    job: {
      name: "card-dispatcher",
      intervalMs: o.sweepIntervalMs ?? 5000,
      async run(signal) {
        const batch = await deps.store.claimDue(now(), leaseMs, o.batchSize ?? 50);
        await Promise.all(batch.map((work) => process(work, signal)));
      },
    },
    async close(timeoutMs) {
      closing.abort(new Error("card dispatcher closing"));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((r) => {
        timer = setTimeout(r, timeoutMs).unref();
      });
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
      clearTimeout(timer);
    },
  };
}
