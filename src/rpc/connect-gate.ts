import type { DescMethod, Message } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { ShutdownSignals } from "../shutdown.js";
import type { Logger } from "../telemetry/logger.js";
import type { RefusedMetrics } from "../telemetry/metrics.js";
import { contextOf, REACHED_PIPELINE } from "./connect-mount.js";
import { isOurAnswer, type RefusalKind, refusal, toConnectError } from "./errors.js";
import { type CallResult, type Interceptor, type Next, RequestNotRead } from "./pipeline.js";

export interface ConnectGateDeps {
  /** Checks that need only headers (authentication), run before the body is read. */
  readonly checks: readonly Interceptor[];
  readonly logger: Logger;
  readonly signals: ShutdownSignals;
  readonly refused?: RefusedMetrics;
}

const PASSED: CallResult = Promise.resolve(undefined as unknown as Message);

/** Stands for a body not read yet: reading any field of it ends the header-only checks. */
const NOT_READ = new Proxy({} as Message, {
  get() {
    throw new RequestNotRead("the request body is read after this check");
  },
});

/**
 * connect-node's request gate, run before a request body is read, decompressed or parsed:
 * - the header-only checks run first, so garbage from a caller without a key is UNAUTHENTICATED
 *   (a check that reads the request stops there: what it checks of the body, the pipeline checks);
 * - errors connect-node raises itself while reading the body (undecodable, oversized, unknown
 *   compression) are answered as grpc-js answers them, with ErrorInfo, and counted.
 */
export function connectRequestGate(deps: ConnectGateDeps): (h: HandlerContext) => void {
  const checks = deps.checks.reduceRight<Next>(
    (next, check) => check(next),
    () => PASSED,
  );
  return (h) => {
    const method = h.method;
    try {
      void checks({ method, request: NOT_READ, ctx: contextOf(deps, method, h) });
    } catch (err) {
      if (!(err instanceof RequestNotRead)) throw toConnectError(err);
    }
    h.signal.addEventListener("abort", () => answerTransportError(deps, method, h), { once: true });
  };
}

/**
 * connect-node serializes the error it aborts the call with right after this listener runs, and
 * offers no other hook for its own body errors, so the error is rewritten in place.
 */
function answerTransportError(deps: ConnectGateDeps, method: DescMethod, h: HandlerContext): void {
  const err: unknown = h.signal.reason;
  if (!(err instanceof ConnectError) || isOurAnswer(err) || h.values.get(REACHED_PIPELINE)) return;
  if (err.code === Code.Canceled || err.code === Code.DeadlineExceeded) return;
  const refused = refusal(kindOf(err), method);
  const answer = refused.answer;
  deps.refused?.refused("http", refused.kind);
  deps.logger.info({ rpc: method.name, reason: answer.reason }, "request refused");
  const target = err as { -readonly [K in keyof ConnectError]: ConnectError[K] };
  target.code = answer.code;
  target.rawMessage = answer.message;
  target.details = answer.details as never;
  target.message = `[${Code[answer.code]}] ${answer.message}`;
}

const TIMEOUT_ERROR = /^protocol error: invalid (grpc|connect) timeout value|^timeout \d+ms must be/;

function kindOf(err: ConnectError): RefusalKind {
  if (err.code === Code.ResourceExhausted) return "too_large";
  if (err.code === Code.Unimplemented) return "unsupported_encoding";
  // connect-node's own text for a grpc-timeout it cannot parse (gRPC-Web); nothing else marks it.
  if (TIMEOUT_ERROR.test(err.rawMessage)) return "invalid_timeout";
  return "undecodable";
}
