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
  UNAUTHENTICATED: "UNAUTHENTICATED",
  PERMISSION_DENIED: "PERMISSION_DENIED",
  NOT_IMPLEMENTED: "NOT_IMPLEMENTED",
  LARK_UNAVAILABLE: "LARK_UNAVAILABLE",
  STORE_UNAVAILABLE: "STORE_UNAVAILABLE",
  CURSOR_EXPIRED: "CURSOR_EXPIRED",
  SHUTTING_DOWN: "SHUTTING_DOWN",
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

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: DomainErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Shorthand for an INVALID_ARGUMENT naming the offending field. */
export function invalidArgument(field: string, message: string): DomainError {
  return new DomainError(DomainErrorCode.INVALID_ARGUMENT, `${field}: ${message}`, { field });
}

/** True when `err` is a DomainError with one of the given codes. */
export function isDomainError(err: unknown, ...codes: DomainErrorCode[]): err is DomainError {
  return err instanceof DomainError && (codes.length === 0 || codes.includes(err.code));
}
