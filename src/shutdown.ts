import type { Server } from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import type { GrpcServer } from "./rpc/grpc-server.js";

/**
 * The two moments of a graceful shutdown, as signals the transports share:
 * - `shutdown`: stop accepting; streams end now with UNAVAILABLE (SHUTTING_DOWN) so watchers
 *   reconnect elsewhere and resume;
 * - `graceExpired`: the grace period is over; unary calls still running are cancelled.
 * Unary handlers see only `graceExpired`, so work in flight is allowed to finish.
 */
export interface ShutdownSignals {
  readonly shutdown: AbortSignal;
  readonly graceExpired: AbortSignal;
}

/** Streams end when shutdown starts; unary calls may run until the grace period is over. */
export function endOf(signals: ShutdownSignals, method: DescMethod): AbortSignal {
  return method.methodKind === "unary" ? signals.graceExpired : signals.shutdown;
}

/** Drives a graceful shutdown of both ports; `drain` resolves once both are closed. */
export interface ShutdownController extends ShutdownSignals {
  drain(grpc: GrpcServer, http: Server): Promise<void>;
}

export function createShutdownController(graceMs: number): ShutdownController {
  const shutdown = new AbortController();
  const graceExpired = new AbortController();
  let draining: Promise<void> | undefined;
  return {
    shutdown: shutdown.signal,
    graceExpired: graceExpired.signal,
    drain(grpc, http) {
      draining ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        shutdown.abort();
        // Both ports drain at once, under one deadline; past it, whatever remains is cut.
        const timer = setTimeout(() => {
          graceExpired.abort();
          http.closeAllConnections();
        }, graceMs);
        try {
          await Promise.all([grpc.shutdown(graceMs), httpClosed]);
        } finally {
          clearTimeout(timer);
        }
      })();
      return draining;
    },
  };
}
