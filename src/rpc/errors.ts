import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { DomainError, DomainErrorCode } from "../domain/errors.js";

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
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
  NOT_IMPLEMENTED: Code.Unimplemented,
  LARK_UNAVAILABLE: Code.Unavailable,
  STORE_UNAVAILABLE: Code.Unavailable,
  CURSOR_EXPIRED: Code.OutOfRange,
  SHUTTING_DOWN: Code.Unavailable,
  REFRESH_IN_PROGRESS: Code.Unavailable,
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
export function toErrorAnswer(err: unknown): ErrorAnswer {
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

/** The ErrorInfo reason `err` will be answered with, without building the answer. */
export function errorReason(err: unknown): string {
  if (err instanceof DomainError) return err.code;
  return (err instanceof ConnectError && PASS_THROUGH[err.code]?.reason) || "INTERNAL";
}

/** The ConnectError for connect-node (Connect, gRPC-Web) carrying the same details. */
export function toConnectError(err: unknown): ConnectError {
  const a = toErrorAnswer(err);
  return new ConnectError(a.message, a.code, undefined, a.details as never, err);
}
