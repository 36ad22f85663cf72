import { create, type DescMethod, toBinary } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { DomainError, DomainErrorCode, isFault } from "../domain/errors.js";
import { LarkError } from "../domain/lark-error.js";
import { ServerShuttingDown } from "../shutdown.js";
import { MAX_REQUEST_BYTES } from "./pipeline.js";

/** The ErrorInfo domain of every error this service sends. */
export const ERROR_DOMAIN = "lark-auth";

/** Exhaustive: adding a DomainErrorCode without a row here fails the type check. */
const STATUS: Record<DomainErrorCode, Code> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  SESSION_NOT_FOUND: Code.NotFound,
  APP_NOT_FOUND: Code.NotFound,
  SESSION_NOT_PENDING: Code.FailedPrecondition,
  SESSION_EXPIRED: Code.FailedPrecondition,
  AUTHORIZATION_REQUIRED: Code.FailedPrecondition,
  INSUFFICIENT_SCOPE: Code.FailedPrecondition,
  RATE_LIMITED: Code.ResourceExhausted,
  WATCHER_TOO_SLOW: Code.ResourceExhausted,
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
  NOT_IMPLEMENTED: Code.Unimplemented,
  LARK_UNAVAILABLE: Code.Unavailable,
  STORE_UNAVAILABLE: Code.Unavailable,
  CURSOR_EXPIRED: Code.OutOfRange,
  CURSOR_UNKNOWN: Code.OutOfRange,
  SHUTTING_DOWN: Code.Unavailable,
  STATE_INVALID: Code.InvalidArgument,
  STATE_ALREADY_USED: Code.FailedPrecondition,
  SESSION_CONFLICT: Code.Aborted,
  REFRESH_IN_PROGRESS: Code.Unavailable,
  IDEMPOTENCY_KEY_REUSED: Code.InvalidArgument,
};

/** Transport outcomes that are not faults of this service and keep their own status. */
const PASS_THROUGH: Partial<Record<Code, { code: Code; reason: string; message: string }>> = {
  [Code.Canceled]: { code: Code.Canceled, reason: "CANCELLED", message: "the call was cancelled" },
  [Code.DeadlineExceeded]: {
    code: Code.DeadlineExceeded,
    reason: "DEADLINE_EXCEEDED",
    message: "the call's deadline passed before it finished",
  },
};

type Detail = {
  desc: typeof ErrorInfoSchema | typeof RetryInfoSchema | typeof BadRequestSchema;
  value: object;
};

/** A transport-neutral error answer: status code, safe message, detail messages. */
export interface ErrorAnswer {
  readonly code: Code;
  readonly message: string;
  readonly reason: string;
  readonly details: readonly Detail[];
  /** The same answer as a serialized google.rpc.Status, for grpc-status-details-bin. */
  readonly statusBin: Uint8Array;
}

function detailsOf(err: DomainError): Detail[] {
  const metadata: Record<string, string> = { ...err.details.metadata };
  const list: Detail[] = [
    { desc: ErrorInfoSchema, value: { reason: err.code, domain: ERROR_DOMAIN, metadata } },
  ];
  if (err.details.retryAfterMs !== undefined) {
    const ms = Math.max(0, Math.ceil(err.details.retryAfterMs));
    const retryDelay = create(DurationSchema, {
      seconds: BigInt(Math.floor(ms / 1000)),
      nanos: (ms % 1000) * 1e6,
    });
    list.push({ desc: RetryInfoSchema, value: { retryDelay } });
  }
  const violations =
    err.details.violations ??
    (err.details.field ? [{ field: err.details.field, description: err.message }] : []);
  if (violations.length > 0) {
    const fieldViolations = violations.map((v) => ({
      field: v.field,
      description: v.description,
      reason: err.code,
    }));
    list.push({ desc: BadRequestSchema, value: { fieldViolations } });
  }
  return list;
}

function answer(code: Code, reason: string, message: string, details: Detail[]): ErrorAnswer {
  const packed = details.map((d) => anyPack(d.desc, create(d.desc, d.value as never)));
  const statusBin = toBinary(StatusSchema, create(StatusSchema, { code, message, details: packed }));
  return { code, message, reason, details, statusBin };
}

/**
 * Maps any thrown value to the one answer a client sees. Domain errors keep their code
 * and safe message; anything else becomes INTERNAL with a generic message, because its
 * text may carry a secret (the caller logs the cause, redacted).
 */
export function toErrorAnswer(thrown: unknown): ErrorAnswer {
  const err = callOutcome(thrown);
  if (err instanceof TransportRefusal) return err.answer;
  if (err instanceof DomainError) return answer(STATUS[err.code], err.code, err.message, detailsOf(err));
  const passThrough = err instanceof ConnectError ? PASS_THROUGH[err.code] : undefined;
  if (passThrough) return answer(passThrough.code, passThrough.reason, passThrough.message, []);
  const info: Detail = {
    desc: ErrorInfoSchema,
    value: { reason: "INTERNAL", domain: ERROR_DOMAIN, metadata: {} },
  };
  return answer(Code.Internal, "INTERNAL", "internal error", [info]);
}

/**
 * How a stream cut short by shutdown ends, on both transports: UNAVAILABLE with reason
 * SHUTTING_DOWN, so the caller knows to reconnect and resume rather than take it as finished.
 */
export function shuttingDown(): DomainError {
  return new DomainError(
    DomainErrorCode.SHUTTING_DOWN,
    "server is shutting down; reconnect and resume from your last event id",
  );
}

/**
 * A transient Lark failure a use case passed through unmapped (Lark down, throttling, the app's
 * circuit open): UNAVAILABLE with the wait Lark or the breaker asked for. Its message stays in logs.
 */
function larkUnavailable(err: LarkError): DomainError {
  return new DomainError(DomainErrorCode.LARK_UNAVAILABLE, "Lark is unavailable; retry later", {
    retryAfterMs: (err.retryAfterSeconds ?? 1) * 1000,
  });
}

/** The ErrorInfo reason `err` will be answered with, without building the answer. */
export function errorReason(thrown: unknown): string {
  const err = callOutcome(thrown);
  if (err instanceof TransportRefusal) return err.answer.reason;
  if (err instanceof DomainError) return err.code;
  return (err instanceof ConnectError && PASS_THROUGH[err.code]?.reason) || "INTERNAL";
}

/** The status code a call ended with, as toErrorAnswer gives it but without building the answer. */
export function errorCode(thrown: unknown): Code {
  const err = callOutcome(thrown);
  if (err instanceof TransportRefusal) return err.answer.code;
  if (err instanceof DomainError) return STATUS[err.code];
  return (err instanceof ConnectError && PASS_THROUGH[err.code]?.code) || Code.Internal;
}

/** The ConnectError for connect-node (Connect, gRPC-Web) carrying the same details. */
export function toConnectError(err: unknown): ConnectError {
  const a = toErrorAnswer(err);
  const answer = new ConnectError(a.message, a.code, undefined, a.details as never, err);
  ours.add(answer);
  return answer;
}

const ours = new WeakSet<ConnectError>();

/** True for a ConnectError built by toConnectError, as opposed to one connect-node raised itself. */
export function isOurAnswer(err: ConnectError): boolean {
  return ours.has(err);
}

/** A client cancel, as the call's abort signal carries it on both transports. */
export function clientCancelled(): ConnectError {
  return new ConnectError("the call was cancelled by the client", Code.Canceled);
}

/** An expired deadline, as the call's abort signal carries it on both transports. */
export function deadlineExceeded(): ConnectError {
  return new ConnectError("the call's deadline passed", Code.DeadlineExceeded);
}

function isAbortError(err: unknown): err is Error {
  return err instanceof Error && err.name === "AbortError";
}

/**
 * What a call really ended with. A handler honouring its abort signal throws an AbortError
 * (node:timers/promises, events.once, fetch) whose cause, or else the signal's own reason, says
 * why: a client cancel, a deadline or shutdown. Those are outcomes, not faults of ours.
 */
export function callOutcome(err: unknown, signal?: () => AbortSignal): unknown {
  if (err instanceof ServerShuttingDown) return shuttingDown();
  if (err instanceof LarkError && err.kind === "transient") return larkUnavailable(err);
  if (!isAbortError(err)) return err;
  if (err.cause !== undefined && err.cause !== err) return callOutcome(err.cause);
  const s = signal?.();
  return s?.aborted && s.reason !== err ? callOutcome(s.reason) : err;
}

/** True when `err` is a fault of this service (span error, error log), not an outcome a caller chose. */
export function isFaultOutcome(err: unknown): boolean {
  const outcome = callOutcome(err);
  if (outcome instanceof ConnectError && PASS_THROUGH[outcome.code]) return false;
  if (outcome instanceof TransportRefusal) return false;
  return isFault(outcome);
}

/** The answer to a request body that does not decode as the method's input, on every transport. */
export function undecodable(method: DescMethod): DomainError {
  return new DomainError(DomainErrorCode.INVALID_ARGUMENT, `request is not a valid ${method.input.typeName}`);
}

/** Why a transport refused a request before it could become a call; also the metric's label. */
export type RefusalKind = "too_large" | "unsupported_encoding" | "undecodable" | "invalid_timeout";

/** A request refused by a transport, answered alike on both (status, reason, message). */
export class TransportRefusal extends Error {
  override readonly name = "TransportRefusal";
  constructor(
    readonly kind: RefusalKind,
    readonly answer: ErrorAnswer,
  ) {
    super(answer.message);
  }
}

function errorInfo(reason: string): Detail {
  return { desc: ErrorInfoSchema, value: { reason, domain: ERROR_DOMAIN, metadata: {} } };
}

/** The one answer to each kind of refused request, whichever transport refused it. */
export function refusal(kind: RefusalKind, method: DescMethod): TransportRefusal {
  if (kind === "too_large") {
    const message = `request is larger than the limit of ${MAX_REQUEST_BYTES} bytes`;
    return new TransportRefusal(
      kind,
      answer(Code.ResourceExhausted, "REQUEST_TOO_LARGE", message, [errorInfo("REQUEST_TOO_LARGE")]),
    );
  }
  if (kind === "unsupported_encoding") {
    const message = "request compression is not supported: send gzip or no compression";
    return new TransportRefusal(
      kind,
      answer(Code.Unimplemented, "UNSUPPORTED_ENCODING", message, [errorInfo("UNSUPPORTED_ENCODING")]),
    );
  }
  if (kind === "invalid_timeout") {
    const message = "the request's timeout header is not a valid timeout";
    return new TransportRefusal(
      kind,
      answer(Code.InvalidArgument, "INVALID_ARGUMENT", message, [errorInfo("INVALID_ARGUMENT")]),
    );
  }
  return new TransportRefusal(kind, toErrorAnswer(undecodable(method)));
}
