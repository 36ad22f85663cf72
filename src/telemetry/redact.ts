/**
 * Removes secrets from anything about to be logged or recorded, and bounds its size.
 * - Keys that name a secret (token, secret, authorization, code, verifier, OAuth state, …) lose
 *   their value.
 * - Strings are scrubbed of bearer credentials, JWT-shaped and Lark-shaped tokens, caller keys,
 *   and secret-bearing `name=value` parameters (code, state, …), wherever they appear (messages,
 *   stacks, URLs).
 * - Strings are cut to a few KiB and arrays to 100 entries: a field copied from a request must not
 *   turn one log line into megabytes.
 */
export const REDACTED = "[REDACTED]";

const SECRET_KEY =
  /(token|secret|password|passwd|authorization|cookie|verifier|credential|ticket|api_?key|private_?key|encrypt_?key|^code$|^key$|device_code|user_code|^state$|oauth_?state)/i;

const STRING_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){0,2}/g, REDACTED],
  [/\b(?:t|u|ur|c|a)-[A-Za-z0-9_.-]{12,}/g, REDACTED],
  [/\blak_[A-Za-z0-9_-]{8,}/g, REDACTED],
  // Credentials in connection URLs (postgres://user:password@host).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s/]+@/gi, `$1${REDACTED}@`],
  [
    /((?:^|[?&#;,\s])(?:code|state|oauth_state|token|access_token|refresh_token|code_verifier|device_code|user_code|client_secret|app_secret|ticket)=)[^&\s"'#]+/gi,
    `$1${REDACTED}`,
  ],
  [
    /("(?:app_secret|client_secret|access_token|refresh_token|code|code_verifier|device_code|token|state|oauth_state|AppSecret)"\s*:\s*")[^"]*(")/g,
    `$1${REDACTED}$2`,
  ],
];

/** True when a property named `key` holds a secret by name alone. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Returns `s` with every recognisable secret replaced by [REDACTED]. */
export function scrubString(s: string): string {
  let out = s;
  for (const [pattern, replacement] of STRING_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** The longest string a log field keeps, in characters; error stacks keep more. */
export const MAX_LOG_STRING = 2048;
const MAX_STACK = 8192;
const MAX_ARRAY = 100;
/** Longer than any secret pattern: a secret straddling the cut is still seen whole when scrubbing. */
const SCRUB_MARGIN = 512;

/**
 * `s` scrubbed and cut to `max` characters, the cut marked with how much was dropped. Cut before
 * scrubbing as well, so a megabyte from a caller costs no more to scrub than a short string.
 */
export function scrubBounded(s: string, max = MAX_LOG_STRING): string {
  if (s.length <= max) return scrubString(s);
  const scrubbed = scrubString(s.slice(0, max + SCRUB_MARGIN));
  return `${scrubbed.slice(0, max)}…[${s.length - max} more characters]`;
}

/** Deep-copies `value`, redacting secret keys and scrubbing strings; bounded depth, no cycles. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return scrubBounded(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > 8 || seen.has(value)) return "[…]";
  seen.add(value);
  if (value instanceof Error) return redactError(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ARRAY).map((v) => redact(v, depth + 1, seen));
    return value.length > MAX_ARRAY ? [...kept, `[${value.length - MAX_ARRAY} more]`] : kept;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      isSecretKey(k) && v !== undefined && v !== null && v !== "" ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}

/**
 * Serializes an error for logs without its attached request/response objects: HTTP client
 * errors (axios) carry request headers and bodies, which is how credentials reach logs.
 */
export function redactError(err: Error): Record<string, unknown> {
  const e = err as Error & { code?: unknown; status?: unknown; cause?: unknown };
  const out: Record<string, unknown> = { type: e.name, message: scrubBounded(e.message) };
  if (typeof e.code === "string" || typeof e.code === "number") out.code = e.code;
  if (typeof e.status === "number") out.status = e.status;
  if (e.stack) out.stack = scrubBounded(e.stack, MAX_STACK);
  if (e.cause instanceof Error) out.cause = redactError(e.cause);
  return out;
}
