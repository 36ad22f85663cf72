import { LarkError } from "../domain/lark-error.js";
import { scrubString } from "../telemetry/redact.js";

/**
 * Lark codes that say "try again later": throttling (99991400 gateway, 230020 IM per-user/message),
 * the token endpoint's retryable server errors (20050, 20072), the long-connection "system busy" (1) and
 * internal error, and Lark's generic internal-error codes. Everything else Lark answers is terminal.
 */
const TRANSIENT_CODES = new Set([1, 99991400, 230020, 20050, 20072, 1000040343, 99991500, 99991501]);

const isTransientStatus = (status: number) => status === 429 || status >= 500;

interface LarkBody {
  code?: unknown;
  msg?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** The shape of an axios error, read without importing axios (the SDK's HTTP client). */
interface HttpFailure {
  isAxiosError?: boolean;
  code?: string;
  response?: { status?: number; data?: unknown; headers?: Record<string, unknown> };
}

const asBody = (data: unknown): LarkBody => (data && typeof data === "object" ? (data as LarkBody) : {});

/** Lark's own text, scrubbed and bounded: it may quote a request value, never a credential we sent. */
function safeText(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? scrubString(value).slice(0, 200) : undefined;
}

/** Lark's own `x-ogw-ratelimit-reset`, else a standard `Retry-After` in seconds: how long to wait. */
function retryAfter(headers: Record<string, unknown> | undefined): number | undefined {
  for (const name of ["x-ogw-ratelimit-reset", "retry-after"]) {
    const seconds = Number(headers?.[name]);
    if (Number.isFinite(seconds) && seconds > 0) return seconds;
  }
  return undefined;
}

/** Axios's codes for a request that ran out of time (ECONNABORTED: its own `timeout` option). */
const TIMEOUT_CODES = new Set(["ECONNABORTED", "ETIMEDOUT"]);

/** A LarkError from an answer Lark gave: a non-zero `code`, an OAuth `error`, or an HTTP status. */
export function larkAnswerError(
  operation: string,
  data: unknown,
  httpStatus?: number,
  headers?: Record<string, unknown>,
): LarkError {
  const body = asBody(data);
  const code = typeof body.code === "number" ? body.code : Number(body.code) || 0;
  const oauthError = typeof body.error === "string" ? body.error : undefined;
  const transient =
    TRANSIENT_CODES.has(code) ||
    (httpStatus !== undefined && isTransientStatus(httpStatus)) ||
    oauthError === "server_error" ||
    oauthError === "temporarily_unavailable";
  const detail = safeText(body.msg) ?? safeText(body.error_description) ?? oauthError ?? "no message";
  const status = httpStatus === undefined ? "" : `, HTTP ${httpStatus}`;
  return new LarkError({
    code,
    kind: transient ? "transient" : "terminal",
    message: `Lark ${operation} failed: code ${code}${status}: ${detail}`,
    httpStatus,
    oauthError,
    retryAfterSeconds: retryAfter(headers),
  });
}

/**
 * Turns anything a Lark call threw into a LarkError, dropping the original: an axios error holds the
 * request config, whose headers carry the tenant token and whose body may carry the app secret.
 */
export function toLarkError(operation: string, err: unknown): LarkError {
  if (err instanceof LarkError) return err;
  const http = (err ?? {}) as HttpFailure;
  if (http.response)
    return larkAnswerError(operation, http.response.data, http.response.status, http.response.headers);
  if (http.isAxiosError) {
    const reason = typeof http.code === "string" ? http.code : "no answer";
    return new LarkError({
      code: 0,
      kind: "transient",
      message: `Lark ${operation} failed: ${reason}`,
      noAnswer: TIMEOUT_CODES.has(reason) ? "timeout" : "network",
    });
  }
  // The SDK's token manager throws "failed to get tenant_access_token, code: <n>, msg: <text>".
  const text = err instanceof Error ? err.message : String(err);
  const code = Number(/code: (\d+)/.exec(text)?.[1] ?? 0);
  return new LarkError({
    code,
    kind: TRANSIENT_CODES.has(code) ? "transient" : "terminal",
    message: `Lark ${operation} failed: ${safeText(text) ?? "unknown error"}`,
  });
}

/** Runs one Lark call, mapping whatever it throws. */
export async function callLark<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toLarkError(operation, err);
  }
}

/** The SDK returns (not throws) an HTTP 200 body with a non-zero code; this makes it a LarkError. */
export function ensureOk<T extends { code?: unknown }>(operation: string, body: T): T {
  if (body && (body.code === 0 || body.code === undefined)) return body;
  throw larkAnswerError(operation, body, 200);
}
