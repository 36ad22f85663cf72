import type { Server } from "node:http";

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

/**
 * The reason both shutdown signals abort with, so a handler's AbortError caused by shutdown is
 * answered UNAVAILABLE (SHUTTING_DOWN) rather than taken for a fault.
 */
export class ServerShuttingDown extends Error {
  override readonly name = "ServerShuttingDown";
  constructor() {
    super("server is shutting down");
  }
}

/** How long answers to cut calls get to leave before connections close. */
const FLUSH_MS = 250;

/**
 * The gRPC port as shutdown sees it: stop accepting, wait up to `graceMs`, then cancel the rest.
 * Structural, so this module depends on no transport and the transports depend on it.
 */
export interface DrainableServer {
  shutdown(graceMs: number): Promise<void>;
}

/** Drives a graceful shutdown of both ports; `drain` resolves once both are closed. */
export interface ShutdownController extends ShutdownSignals {
  drain(grpc: DrainableServer, http: Server): Promise<void>;
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
        shutdown.abort(new ServerShuttingDown());
        // Both ports drain at once, under one deadline. Past it, calls still running are answered
        // UNAVAILABLE (SHUTTING_DOWN) by the mounts, and connections are cut FLUSH_MS later, once
        // those answers had a chance to leave.
        let cut: NodeJS.Timeout | undefined;
        const timer = setTimeout(() => {
          graceExpired.abort(new ServerShuttingDown());
          cut = setTimeout(() => http.closeAllConnections(), FLUSH_MS);
        }, graceMs);
        try {
          await Promise.all([grpc.shutdown(graceMs + FLUSH_MS), httpClosed]);
        } finally {
          clearTimeout(timer);
          clearTimeout(cut);
        }
      })();
      return draining;
    },
  };
}
