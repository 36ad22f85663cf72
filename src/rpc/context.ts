import type { DescMethod } from "@bufbuild/protobuf";
import type { Caller } from "../domain/callers.js";
import type { Logger } from "../telemetry/logger.js";

/** How the call came in: an RPC transport (gRPC, Connect, gRPC-Web), or the events WebSocket. */
export type CallTransport = "grpc" | "websocket";

/**
 * What a handler knows about the call besides the request, identical on both transports.
 * Handlers read the caller from here, never from headers.
 */
export interface CallContext {
  readonly method: DescMethod;
  readonly requestId: string;
  /**
   * Aborted when the client cancels, the deadline passes or the server shuts down, with the
   * reason as an error of ours (CANCELLED, DEADLINE_EXCEEDED, SHUTTING_DOWN): a handler may
   * let the resulting AbortError propagate, and the call is answered and recorded as that.
   * Pass it to every wait (Lark calls, timers) so abandoned work stops.
   */
  readonly signal: AbortSignal;
  /**
   * When the caller stops waiting. Stores bound their queries by it: the time left as a
   * `SET LOCAL statement_timeout` in the unit of work, so PostgreSQL itself cancels the query.
   */
  readonly deadline?: Date;
  /** For metrics only: handlers behave alike on every transport. */
  readonly transport?: CallTransport;
  /**
   * A streaming handler calls this when its source ended (with the error, e.g. a watcher too slow),
   * which may be long before the transport reads that far: a transport blocked on a socket that is
   * not being read learns the reason at once and can close with it behind the queued data.
   */
  streamEnded?(err: Error | undefined): void;
  /** Reads a request header (gRPC metadata or HTTP header), lower-case name. */
  header(name: string): string | undefined;
  /** Set by the authentication interceptor before any handler runs. */
  caller?: Caller;
  /** A child logger bound to the request id, method and caller. */
  readonly logger: Logger;
}

/** The caller set by the authentication interceptor; a missing one is a wiring bug. */
export function callerOf(ctx: CallContext): Caller {
  if (!ctx.caller)
    throw new Error(`no authenticated caller on ${ctx.method.name}: interceptor chain misconfigured`);
  return ctx.caller;
}
