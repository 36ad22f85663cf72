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
 * How long the HTTP port keeps listening after shutdown starts. `server.close()` destroys every
 * keep-alive socket with no request parsed yet, including one whose request is still on the
 * wire: the caller would see a reset. Meanwhile new calls are refused with SHUTTING_DOWN and
 * every answer closes its connection.
 */
const LINGER_MS = 500;

/**
 * Stops the HTTP port after `lingerMs`, then closes each connection as soon as its last answer
 * has left (otherwise an idle socket would hold `close()` open until its keep-alive time-out).
 */
function closeHttp(http: Server, lingerMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    setTimeout(() => {
      const poll = setInterval(() => http.closeIdleConnections(), 50);
      http.close(() => {
        clearInterval(poll);
        resolve();
      });
    }, lingerMs);
  });
}

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
        shutdown.abort(new ServerShuttingDown());
        const httpClosed = closeHttp(http, Math.min(LINGER_MS, graceMs));
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

/**
 * Settles when `work` does or after `limitMs`, whichever is first, and says which: a close step
 * that hangs (a query holding a lock, a stuck socket) must not keep the process from exiting.
 */
export async function withinLimit(work: Promise<unknown>, limitMs: number): Promise<"done" | "timed out"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"timed out">((resolve) => {
    timer = setTimeout(() => resolve("timed out"), limitMs);
  });
  try {
    return await Promise.race([work.then(() => "done" as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
