import type { Interceptor } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { LarkAuthError } from "./errors.js";

/** How unary calls the contract calls safe are retried. */
export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 turns retries off). */
  readonly attempts?: number;
  /** The first back-off; each further one doubles, with jitter (default 100 ms). */
  readonly initialBackoffMs?: number;
  /** No back-off is longer than this, whatever RetryInfo asks (default 2,000 ms). */
  readonly maxBackoffMs?: number;
}

/**
 * RPCs a retry cannot make happen twice: they only read. RefreshUserAccessToken, Cancel, Revoke and
 * CompleteAuthorization change state and are never retried; StartAuthorization only with an
 * idempotency_key, which makes the service return the same session (api-contract.md).
 */
const READ_ONLY = new Set([
  "lark.auth.v1.AuthService.GetAuthSession",
  "lark.auth.v1.AuthService.ListAuthSessions",
  "lark.auth.v1.TokenService.GetUserAccessToken",
  "lark.auth.v1.TokenService.GetUserInfo",
  "lark.auth.v1.TokenService.GetTenantAccessToken",
]);
const START = "lark.auth.v1.AuthService.StartAuthorization";

function isSafe(method: string, message: unknown): boolean {
  if (READ_ONLY.has(method)) return true;
  if (method !== START) return false;
  const key = (message as { idempotencyKey?: unknown }).idempotencyKey;
  return typeof key === "string" && key !== "";
}

/**
 * Worth another try: UNAVAILABLE (the service restarting, a refresh in progress elsewhere, Lark
 * unreachable), a connection reset (ABORTED, or CANCELLED when the caller did not cancel: that is
 * how a reset HTTP/2 stream or socket surfaces), and RESOURCE_EXHAUSTED only when the service said
 * when (RetryInfo). Everything else would answer the same again.
 */
const TRANSIENT = new Set([Code.Unavailable, Code.Aborted, Code.Canceled]);

function retryDelay(err: unknown, attempt: number, opts: Required<RetryOptions>): number | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  const typed = new LarkAuthError(err);
  if (typed.code === Code.ResourceExhausted && typed.retryDelayMs === undefined) return undefined;
  if (!TRANSIENT.has(typed.code) && typed.code !== Code.ResourceExhausted) return undefined;
  const backoff = opts.initialBackoffMs * 2 ** attempt * (0.5 + Math.random() / 2);
  return Math.min(opts.maxBackoffMs, Math.max(backoff, typed.retryDelayMs ?? 0));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Retries safe unary calls. It runs inside the call, so the call's deadline bounds every attempt
 * and back-off together: a retry never outlives the deadline the caller chose.
 */
export function retryInterceptor(options: RetryOptions = {}): Interceptor {
  const opts: Required<RetryOptions> = {
    attempts: options.attempts ?? 3,
    initialBackoffMs: options.initialBackoffMs ?? 100,
    maxBackoffMs: options.maxBackoffMs ?? 2000,
  };
  return (next) => async (req) => {
    if (req.stream || !isSafe(`${req.method.parent.typeName}.${req.method.name}`, req.message)) {
      return next(req);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        return await next(req);
      } catch (err) {
        const delay = attempt + 1 < opts.attempts ? retryDelay(err, attempt, opts) : undefined;
        if (delay === undefined || req.signal.aborted) throw err;
        await sleep(delay, req.signal);
      }
    }
  };
}
