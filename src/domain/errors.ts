/**
 * The closed catalogue of domain failures. Every code maps to exactly one transport
 * status in `rpc/errors.ts`; programs branch on the code, people read the message.
 */
export const DomainErrorCode = {
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  SESSION_NOT_FOUND: "SESSION_NOT_FOUND",
  APP_NOT_FOUND: "APP_NOT_FOUND",
  SESSION_NOT_PENDING: "SESSION_NOT_PENDING",
  SESSION_EXPIRED: "SESSION_EXPIRED",
  AUTHORIZATION_REQUIRED: "AUTHORIZATION_REQUIRED",
  INSUFFICIENT_SCOPE: "INSUFFICIENT_SCOPE",
  RATE_LIMITED: "RATE_LIMITED",
  WATCHER_TOO_SLOW: "WATCHER_TOO_SLOW",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  PERMISSION_DENIED: "PERMISSION_DENIED",
  NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
  LARK_UNAVAILABLE: "LARK_UNAVAILABLE",
  STORE_UNAVAILABLE: "STORE_UNAVAILABLE",
  CURSOR_EXPIRED: "CURSOR_EXPIRED",
  CURSOR_UNKNOWN: "CURSOR_UNKNOWN",
  SHUTTING_DOWN: "SHUTTING_DOWN",
  STATE_INVALID: "STATE_INVALID",
  STATE_ALREADY_USED: "STATE_ALREADY_USED",
  SESSION_CONFLICT: "SESSION_CONFLICT",
  REFRESH_IN_PROGRESS: "REFRESH_IN_PROGRESS",
  IDEMPOTENCY_KEY_REUSED: "IDEMPOTENCY_KEY_REUSED",
} as const;

export type DomainErrorCode = (typeof DomainErrorCode)[keyof typeof DomainErrorCode];

/** Extra, non-secret facts a client may act on (which field, when to retry). */
export interface DomainErrorDetails {
  /** The request field at fault, as a proto field path (e.g. `user.open_id`). */
  readonly field?: string;
  /** Every field at fault with what is wrong with it, when there are several. */
  readonly violations?: readonly { readonly field: string; readonly description: string }[];
  /** How long the caller should wait before retrying, in milliseconds. */
  readonly retryAfterMs?: number;
  /** Machine-readable context for ErrorInfo.metadata; never secrets. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * A failure the domain expects and names. The message must be safe to show a caller:
 * it never contains tokens, codes or secrets. Causes stay in logs, off the wire.
 */
export class DomainError extends Error {
  override readonly name = "DomainError";
  readonly details: DomainErrorDetails;

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    details: DomainErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    // Capped here as well as where values are echoed: an unbounded message or metadata value
    // travels in response headers, and a grpc-js client drops the whole connection over one.
    super(bounded(message, MAX_MESSAGE), options);
    this.details = boundedDetails(details);
  }
}

/** The most characters of a caller-supplied value echoed in a message, metadata or violation. */
export const ECHO_LIMIT = 64;
const MAX_MESSAGE = 1024;
const MAX_DETAIL = 128;

/** `value` cut to `max` characters, an ellipsis marking the cut: untrusted input is echoed only bounded. */
export function bounded(value: string, max = ECHO_LIMIT): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function boundedDetails(d: DomainErrorDetails): DomainErrorDetails {
  const out: { -readonly [K in keyof DomainErrorDetails]: DomainErrorDetails[K] } = { ...d };
  if (d.field !== undefined) out.field = bounded(d.field, MAX_DETAIL);
  if (d.violations) {
    out.violations = d.violations.slice(0, 20).map((v) => ({
      field: bounded(v.field, MAX_DETAIL),
      description: bounded(v.description, MAX_DETAIL * 2),
    }));
  }
  if (d.metadata) {
    const entries = Object.entries(d.metadata).map(([k, v]) => [
      bounded(k, MAX_DETAIL),
      bounded(v, MAX_DETAIL),
    ]);
    out.metadata = Object.fromEntries(entries);
  }
  return out;
}

/** Shorthand for an INVALID_ARGUMENT naming the offending field. */
export function invalidArgument(field: string, message: string): DomainError {
  return new DomainError(DomainErrorCode.INVALID_ARGUMENT, `${field}: ${message}`, { field });
}

/**
 * Which codes are faults of this service or what it depends on (true), as opposed to normal
 * answers to a caller (false: not found, denied, invalid, a deploy ending a stream). Exhaustive,
 * so a new code cannot be added without deciding; telemetry marks only faults as span errors.
 */
const IS_FAULT: Record<DomainErrorCode, boolean> = {
  INVALID_ARGUMENT: false,
  SESSION_NOT_FOUND: false,
  APP_NOT_FOUND: false,
  SESSION_NOT_PENDING: false,
  SESSION_EXPIRED: false,
  AUTHORIZATION_REQUIRED: false,
  INSUFFICIENT_SCOPE: false,
  RATE_LIMITED: false,
  // The watcher's consumer did not keep up: it resumes from its cursor, nothing is wrong here.
  WATCHER_TOO_SLOW: false,
  UNAUTHENTICATED: false,
  PERMISSION_DENIED: false,
  NOT_IMPLEMENTED: false,
  LARK_UNAVAILABLE: true,
  STORE_UNAVAILABLE: true,
  CURSOR_EXPIRED: false,
  // A cursor from another deployment or a wiped database: the caller's to restart, not our fault.
  CURSOR_UNKNOWN: false,
  SHUTTING_DOWN: false,
  STATE_INVALID: false,
  STATE_ALREADY_USED: false,
  // Two writers raced past the row lock: a bug in this service, worth an alert.
  SESSION_CONFLICT: true,
  // Waiting for another replica's refresh is contention, not a fault (and never "invalid credentials").
  REFRESH_IN_PROGRESS: false,
  // The caller reused a key for a different request: its mistake, not ours.
  IDEMPOTENCY_KEY_REUSED: false,
};

/** True for anything but a DomainError whose code is a normal answer to a caller. */
export function isFault(err: unknown): boolean {
  return !(err instanceof DomainError) || IS_FAULT[err.code];
}
