import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import type { AuthSession } from "../../gen/lark/auth/v1/types_pb.js";
import { AuthSessionState } from "../../gen/lark/auth/v1/types_pb.js";

/** The ErrorInfo domain of every error the service sends. */
const ERROR_DOMAIN = "lark-auth";

/**
 * An error answered by lark-auth-service, with the contract's machine-readable parts lifted out:
 * branch on `reason` (ErrorInfo.reason), never on the message. Still a ConnectError, so code that
 * already handles those keeps working.
 */
export class LarkAuthError extends ConnectError {
  /** ErrorInfo.reason (UPPER_SNAKE_CASE), or "" when the answer carried none (e.g. a network failure). */
  readonly reason: string;
  /** RetryInfo.retry_delay in milliseconds, when the service said when to retry. */
  readonly retryDelayMs: number | undefined;

  /**
   * ConnectError answers `instanceof` by shape (any ConnectError-like value would pass); these errors
   * answer by prototype, so `err instanceof AuthorizationRequiredError` means exactly that.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass tested against, not always LarkAuthError
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  constructor(cause: ConnectError) {
    super(cause.rawMessage, cause.code, cause.metadata, undefined, cause);
    // name stays "ConnectError": connect's runtime recognizes its errors by that name, and would
    // otherwise wrap this one into an UNKNOWN error on its way out of the client.
    this.details = cause.details;
    const info = cause.findDetails(ErrorInfoSchema).find((d) => d.domain === ERROR_DOMAIN);
    this.reason = info?.reason ?? "";
    const retry = cause.findDetails(RetryInfoSchema)[0]?.retryDelay;
    this.retryDelayMs = retry ? Number(retry.seconds) * 1000 + Math.floor(retry.nanos / 1e6) : undefined;
  }
}

/** The user holds no grant for the app (AUTHORIZATION_REQUIRED) or one without the scopes asked for (INSUFFICIENT_SCOPE). */
export class AuthorizationRequiredError extends LarkAuthError {}

/** An authorization ended without consent: declined, expired, failed or cancelled (superseded included). */
export class AuthorizationNotGrantedError extends Error {
  /** The final state, e.g. AUTH_SESSION_STATE_DECLINED. */
  readonly state: AuthSessionState;
  /** The session's failure_reason (e.g. SUPERSEDED, USER_MISMATCH); "" when the state says it all. */
  readonly reason: string;
  readonly session: AuthSession;

  constructor(session: AuthSession) {
    const state = AuthSessionState[session.state] ?? String(session.state);
    const why = session.failureReason ? ` (${session.failureReason})` : "";
    super(`authorization session ${session.sessionId} ended ${state}${why}`);
    this.name = "AuthorizationNotGrantedError";
    this.state = session.state;
    this.reason = session.failureReason;
    this.session = session;
  }
}

/**
 * The Lark Open Platform refused a call made as the user. Carries Lark's own `code` and `msg`
 * (never the token), and the HTTP status.
 */
export class LarkApiError extends Error {
  readonly status: number;
  readonly larkCode: number;
  readonly larkMsg: string;

  constructor(path: string, status: number, larkCode: number, larkMsg: string) {
    super(`Lark answered ${path} with HTTP ${status}, code ${larkCode}: ${larkMsg}`);
    this.name = "LarkApiError";
    this.status = status;
    this.larkCode = larkCode;
    this.larkMsg = larkMsg;
  }
}

const NEEDS_AUTHORIZATION = new Set(["AUTHORIZATION_REQUIRED", "INSUFFICIENT_SCOPE"]);

/** Any error as the most specific typed error; anything that is not a ConnectError passes unchanged. */
export function toLarkAuthError(err: unknown): unknown {
  if (err instanceof LarkAuthError || !(err instanceof ConnectError)) return err;
  const typed = new LarkAuthError(err);
  if (typed.code === Code.FailedPrecondition && NEEDS_AUTHORIZATION.has(typed.reason)) {
    return new AuthorizationRequiredError(err);
  }
  return typed;
}
