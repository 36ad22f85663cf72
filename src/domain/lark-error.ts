/**
 * `terminal`: repeating the same call cannot succeed (bad code, revoked token, unknown user).
 * `transient`: Lark or the network failed or throttled; the same call may succeed later.
 */
export type LarkErrorKind = "terminal" | "transient";

/**
 * Why no answer came back: `timeout` (sent, unanswered in time), `network` (the connection failed:
 * it may or may not have reached Lark), `not_sent` (refused before leaving this process, e.g. the
 * app's circuit is open: nothing can have happened at Lark).
 */
export type LarkNoAnswer = "timeout" | "network" | "not_sent";

/**
 * A failed call to Lark, as the domain sees it: Lark's numeric code (0 when the failure had none, e.g. a
 * network error), the HTTP status when there was an answer, and a message safe to log. It never carries
 * a token, a secret, or the HTTP request that failed.
 */
export class LarkError extends Error {
  override readonly name = "LarkError";
  readonly code: number;
  readonly kind: LarkErrorKind;
  readonly httpStatus?: number;
  /** The OAuth `error` string of the token endpoints (`invalid_grant`, …), when Lark sent one. */
  readonly oauthError?: string;
  /** How long Lark asked us to wait before retrying (rate limits), in seconds. */
  readonly retryAfterSeconds?: number;
  /** Set when Lark gave no answer at all. */
  readonly noAnswer?: LarkNoAnswer;

  constructor(init: {
    code: number;
    kind: LarkErrorKind;
    message: string;
    httpStatus?: number;
    oauthError?: string;
    retryAfterSeconds?: number;
    noAnswer?: LarkNoAnswer;
  }) {
    super(init.message);
    this.code = init.code;
    this.kind = init.kind;
    if (init.httpStatus !== undefined) this.httpStatus = init.httpStatus;
    if (init.oauthError !== undefined) this.oauthError = init.oauthError;
    if (init.retryAfterSeconds !== undefined) this.retryAfterSeconds = init.retryAfterSeconds;
    if (init.noAnswer !== undefined) this.noAnswer = init.noAnswer;
  }

  /** What JSON.stringify shows: the safe fields only. */
  toJSON(): Record<string, unknown> {
    const { name, code, kind, httpStatus, oauthError, retryAfterSeconds, noAnswer, message } = this;
    return { name, code, kind, httpStatus, oauthError, retryAfterSeconds, noAnswer, message };
  }
}

export const isLarkError = (err: unknown): err is LarkError => err instanceof LarkError;
