import { setTimeout as sleep } from "node:timers/promises";
import { type Span, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { LarkError } from "../domain/lark-error.js";
import type { LarkCallMetrics } from "../telemetry/lark-call-metrics.js";
import type { Logger } from "../telemetry/logger.js";
import { type RetryOptions, retryDelayMs } from "./backoff.js";
import {
  type Admission,
  CIRCUIT_STATE_VALUE,
  CircuitBreaker,
  type CircuitOptions,
  type CircuitTransition,
} from "./circuit-breaker.js";

/**
 * Every outbound Lark operation, by the name metrics and spans use (never a raw path), with whether
 * repeating it is safe and whether the jobs already pace it.
 * - retry: reads and fetches are idempotent; a message create is only with a uuid (Lark delivers at
 *   most one message per uuid within an hour), so the gateway decides per call; a card PATCH
 *   replaces the whole card. A code exchange or refresh is never repeated: the code and the refresh
 *   token are single use, and an answer lost on the way back must not be asked for twice.
 * - paced: the jobs already hold a slot of Lark's budget for the first attempt (card dispatcher,
 *   token limiter); the policy's own limiter paces the rest, and every retry.
 */
export const LARK_OPERATIONS = {
  "im.message.create": { retry: true, paced: true },
  "im.message.patch": { retry: true, paced: true },
  "authen.user_info": { retry: true, paced: false },
  "auth.tenant_access_token": { retry: true, paced: false },
  "authen.oauth_token.authorization_code": { retry: false, paced: true },
  "authen.oauth_token.refresh_token": { retry: false, paced: true },
  "authen.oauth_token.device_code": { retry: false, paced: true },
  "authen.device_authorization": { retry: false, paced: true },
} as const satisfies Record<string, { retry: boolean; paced: boolean }>;

export type LarkOperation = keyof typeof LARK_OPERATIONS;

/** How one attempt ended, as metrics label it. */
export type CallOutcome =
  | "ok"
  | "lark_error"
  | "rate_limited"
  | "server_error"
  | "timeout"
  | "network"
  | "circuit_open";

/** Lark's throttling codes: the gateway's 99991400, IM's per-user/per-message 230020. */
const RATE_LIMIT_CODES = new Set([99991400, 230020]);
/** Outcomes that say Lark (or the way to it) is down: the breaker counts these, and only these. */
const DOWN: ReadonlySet<CallOutcome> = new Set(["server_error", "timeout", "network"]);
/** Outcomes a retry-safe call is repeated after: down, or throttled (after the wait Lark asked for). */
const RETRYABLE: ReadonlySet<CallOutcome> = new Set(["server_error", "timeout", "network", "rate_limited"]);

/** Classifies whatever an attempt threw. Anything but a LarkError is a bug of ours, not Lark's health. */
export function outcomeOf(err: unknown): CallOutcome {
  if (!(err instanceof LarkError)) return "lark_error";
  if (err.noAnswer === "not_sent") return "circuit_open";
  if (err.noAnswer) return err.noAnswer;
  if (err.httpStatus === 429 || RATE_LIMIT_CODES.has(err.code)) return "rate_limited";
  return err.kind === "transient" ? "server_error" : "lark_error";
}

export interface CallPolicyOptions extends RetryOptions, CircuitOptions {}

/** Defaults: three attempts within a few seconds; five straight failures open for 30 s. */
export const DEFAULT_CALL_POLICY: CallPolicyOptions = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  failureThreshold: 5,
  cooldownMs: 30_000,
};

/** A per-key limiter (src/jobs/rate-limiter.ts `admit`): resolves with a `done` for when the answer arrived. */
export interface CallPacer {
  admit(key: string): Promise<() => void>;
}

export interface CallPolicyDeps {
  /** The configured apps: each gets its own breaker (and pacer keys); nothing else may be called. */
  readonly appIds: readonly string[];
  readonly logger: Logger;
  readonly options?: Partial<CallPolicyOptions>;
  readonly metrics?: LarkCallMetrics;
  readonly tracer?: Tracer;
  readonly pacer?: CallPacer;
  /** Injected for tests; default the wall clock, timers and Math.random. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface CallPolicy {
  /**
   * Runs `call` for `appId` under the app's breaker, pacer, time-outs (the HTTP instance's) and
   * retries. `retry: false` overrides the operation's default (a message create without uuid).
   * Rejects with the last attempt's LarkError, or a transient one with `noAnswer: "not_sent"` and
   * the cool-down left as `retryAfterSeconds` when the circuit is open.
   */
  run<T>(
    appId: string,
    operation: LarkOperation,
    call: () => Promise<T>,
    opts?: { retry?: boolean },
  ): Promise<T>;
}

/** Span attributes: constants, so nothing ad hoc (a token, a code, a body) can become one. */
const ATTR = {
  appId: "lark.app_id",
  operation: "lark.operation",
  attempt: "lark.attempt",
  outcome: "lark.outcome",
  larkCode: "lark.code",
  httpStatus: "http.response.status_code",
} as const;

/** The one policy every outbound Lark call of the gateway runs under; one per process. */
export function createCallPolicy(deps: CallPolicyDeps): CallPolicy {
  const options = { ...DEFAULT_CALL_POLICY, ...deps.options };
  const now = deps.now ?? Date.now;
  const wait = deps.sleep ?? ((ms: number) => sleep(ms, undefined, { ref: false }));
  const random = deps.random ?? Math.random;
  const breakers = new Map(deps.appIds.map((appId) => [appId, breakerFor(appId)]));

  function breakerFor(appId: string): CircuitBreaker {
    deps.metrics?.circuitState(appId, CIRCUIT_STATE_VALUE.closed);
    return new CircuitBreaker(options, (t) => onTransition(appId, t));
  }

  /** Logged once per change of state, never per call or retry. */
  function onTransition(appId: string, t: CircuitTransition): void {
    deps.metrics?.circuitState(appId, CIRCUIT_STATE_VALUE[t.to]);
    const fields = { app_id: appId, from: t.from, to: t.to };
    if (t.to === "open")
      deps.logger.warn(
        { ...fields, consecutive_failures: t.failures, cooldown_ms: options.cooldownMs },
        "Lark circuit opened: calls for this app fail fast until a probe succeeds",
      );
    else if (t.to === "half_open") deps.logger.info(fields, "Lark circuit half-open: probing with one call");
    else deps.logger.info(fields, "Lark circuit closed: Lark answers again");
  }

  const attempt = async <T>(
    appId: string,
    operation: LarkOperation,
    n: number,
    call: () => Promise<T>,
  ): Promise<{ value: T } | { err: unknown; outcome: CallOutcome }> => {
    const tracer = deps.tracer;
    const run = async (span?: Span) => {
      const started = now();
      const settled = await call().then(
        (value) => ({ value, outcome: "ok" as const }),
        (err: unknown) => ({ err, outcome: outcomeOf(err) }),
      );
      deps.metrics?.observe(appId, operation, settled.outcome, (now() - started) / 1000);
      if (span) endSpan(span, settled);
      return settled;
    };
    if (!tracer) return run();
    const attributes = { [ATTR.appId]: appId, [ATTR.operation]: operation, [ATTR.attempt]: n };
    return tracer.startActiveSpan(`lark ${operation}`, { kind: SpanKind.CLIENT, attributes }, run);
  };

  return {
    async run(appId, operation, call, opts = {}) {
      const breaker = breakers.get(appId);
      if (!breaker)
        throw new LarkError({ code: 0, kind: "terminal", message: `app ${appId} is not configured` });
      const spec = LARK_OPERATIONS[operation];
      const retry = opts.retry ?? spec.retry;
      for (let n = 1; ; n++) {
        const admission = breaker.admit(now());
        if (!admission.ok) {
          deps.metrics?.observe(appId, operation, "circuit_open");
          throw circuitOpen(operation, admission.retryAfterMs);
        }
        const done = spec.paced && n === 1 ? undefined : await pace(appId, operation, breaker, admission);
        const settled = await attempt(appId, operation, n, call).finally(() => done?.());
        if ("value" in settled) {
          breaker.record(admission, "success", now());
          return settled.value;
        }
        breaker.record(admission, DOWN.has(settled.outcome) ? "failure" : "success", now());
        const hint = settled.err instanceof LarkError ? settled.err.retryAfterSeconds : undefined;
        const delay =
          retry && RETRYABLE.has(settled.outcome)
            ? retryDelayMs(n, hint === undefined ? undefined : hint * 1000, options, random)
            : undefined;
        if (delay === undefined) throw settled.err;
        deps.logger.debug(
          { app_id: appId, operation, attempt: n, outcome: settled.outcome, delay_ms: delay },
          "retrying a Lark call",
        );
        await wait(delay);
      }
    },
  };

  /** A slot of the app's budget for this operation; a probe that cannot get one must not hold the circuit. */
  async function pace(
    appId: string,
    operation: LarkOperation,
    breaker: CircuitBreaker,
    admission: Admission & { ok: true },
  ): Promise<(() => void) | undefined> {
    try {
      return await deps.pacer?.admit(`${appId}\n${operation}`);
    } catch (err) {
      breaker.record(admission, "success", now());
      throw err;
    }
  }
}

function endSpan(span: Span, settled: { outcome: CallOutcome; err?: unknown }): void {
  span.setAttribute(ATTR.outcome, settled.outcome);
  const err = settled.err;
  if (err instanceof LarkError) {
    if (err.httpStatus !== undefined) span.setAttribute(ATTR.httpStatus, err.httpStatus);
    if (err.code !== 0) span.setAttribute(ATTR.larkCode, err.code);
  } else if (settled.outcome === "ok") span.setAttribute(ATTR.httpStatus, 200);
  if (settled.outcome !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: settled.outcome });
  span.end();
}

/** The fail-fast answer of an open circuit: transient, never sent, with the cool-down left. */
function circuitOpen(operation: LarkOperation, retryAfterMs: number): LarkError {
  return new LarkError({
    code: 0,
    kind: "transient",
    message: `Lark ${operation} not attempted: Lark has been failing for this app, its circuit is open`,
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
    noAnswer: "not_sent",
  });
}
