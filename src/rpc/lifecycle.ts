import type { DescMethod } from "@bufbuild/protobuf";
import type { ShutdownSignals } from "../shutdown.js";
import { shuttingDown } from "./errors.js";

/**
 * Settles with `work`, or rejects with UNAVAILABLE (SHUTTING_DOWN) once `graceExpired` fires
 * first: a call cut at the deadline gets a status a client can act on, not a dropped socket.
 */
export function untilGraceExpires<T>(work: Promise<T>, graceExpired: AbortSignal): Promise<T> {
  if (graceExpired.aborted) return Promise.reject(shuttingDown());
  return new Promise<T>((resolve, reject) => {
    const cut = () => reject(shuttingDown());
    graceExpired.addEventListener("abort", cut, { once: true });
    work.then(
      (value) => {
        graceExpired.removeEventListener("abort", cut);
        resolve(value);
      },
      (err: unknown) => {
        graceExpired.removeEventListener("abort", cut);
        reject(err);
      },
    );
  });
}

/** Streams end when shutdown starts; unary calls may run until the grace period is over. */
export function endOf(signals: ShutdownSignals, method: DescMethod): AbortSignal {
  return method.methodKind === "unary" ? signals.graceExpired : signals.shutdown;
}
