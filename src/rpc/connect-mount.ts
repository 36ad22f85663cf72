import type { DescMethod, DescService, Message } from "@bufbuild/protobuf";
import { ConnectError, type ConnectRouter, createContextKey, type HandlerContext } from "@connectrpc/connect";
import { ServerShuttingDown, type ShutdownSignals } from "../shutdown.js";
import type { Logger } from "../telemetry/logger.js";
import type { RefusedMetrics } from "../telemetry/metrics.js";
import { endedEarly, newCallContext } from "./call-context.js";
import { shuttingDown, toConnectError } from "./errors.js";
import { endOf, untilGraceExpires } from "./lifecycle.js";
import { isStream, type Next } from "./pipeline.js";

/** What the connect-node routes share with the grpc-js mount: the same pipeline. */
export interface ConnectMountDeps {
  readonly pipeline: Next;
  readonly logger: Logger;
  readonly signals: ShutdownSignals;
  /** Counts requests refused before they reach the pipeline. */
  readonly refused?: RefusedMetrics;
}

/**
 * connect-node aborts its signal with no reason when an HTTP/1.1 client goes away (a cancel, or
 * the client's own deadline firing first): name it, so the call ends CANCELLED or
 * DEADLINE_EXCEEDED rather than as an anonymous AbortError.
 */
function namedSignal(h: HandlerContext, deadline: Date | undefined): AbortSignal {
  const ended = new AbortController();
  const name = () => {
    const reason: unknown = h.signal.reason;
    const known = reason instanceof ConnectError || reason instanceof ServerShuttingDown;
    ended.abort(known ? reason : endedEarly(deadline));
  };
  if (h.signal.aborted) name();
  else h.signal.addEventListener("abort", name, { once: true });
  return ended.signal;
}

/** Set once a call has reached the pipeline: from then on, errors are the pipeline's own. */
export const REACHED_PIPELINE = createContextKey(false);

export function contextOf(
  deps: Pick<ConnectMountDeps, "signals" | "logger">,
  method: DescMethod,
  h: HandlerContext,
) {
  const timeout = h.timeoutMs();
  const end = endOf(deps.signals, method);
  const deadline = timeout === undefined ? undefined : new Date(Date.now() + timeout);
  return newCallContext({
    method,
    source: {
      header: (name) => h.requestHeader.get(name) ?? undefined,
      signals: () => [namedSignal(h, deadline), end],
    },
    deadline,
    logger: deps.logger,
  });
}

function unary(deps: ConnectMountDeps, method: DescMethod) {
  return async (request: Message, h: HandlerContext) => {
    // grpc-js stops taking calls itself once shutdown starts; the HTTP port, which keeps
    // listening a moment so requests already sent are not reset, refuses them with a status.
    h.values.set(REACHED_PIPELINE, true);
    if (deps.signals.shutdown.aborted) {
      deps.refused?.refused("http", "shutting_down");
      throw toConnectError(shuttingDown());
    }
    try {
      const work = deps.pipeline({ method, request, ctx: contextOf(deps, method, h) }) as Promise<Message>;
      return await untilGraceExpires(work, deps.signals.graceExpired);
    } catch (err) {
      throw toConnectError(err);
    }
  };
}

function serverStream(deps: ConnectMountDeps, method: DescMethod) {
  return async function* (request: Message, h: HandlerContext) {
    h.values.set(REACHED_PIPELINE, true);
    try {
      const result = deps.pipeline({ method, request, ctx: contextOf(deps, method, h) });
      if (!isStream(result)) throw new Error(`${method.name} returned a single answer on a stream`);
      yield* result;
      // Ended by shutdown, not by the handler: a clean end would read as "finished" to the caller.
      if (deps.signals.shutdown.aborted) throw shuttingDown();
    } catch (err) {
      throw toConnectError(err);
    }
  };
}

/** Registers a service on a Connect router (Connect and gRPC-Web) through the shared pipeline. */
export function addConnectService(router: ConnectRouter, service: DescService, deps: ConnectMountDeps): void {
  const impl: Record<string, unknown> = {};
  for (const method of service.methods) {
    impl[method.localName] =
      method.methodKind === "server_streaming" ? serverStream(deps, method) : unary(deps, method);
  }
  router.service(service, impl as never);
}
