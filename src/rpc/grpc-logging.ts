import { format } from "node:util";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../telemetry/logger.js";

/** Longest grpc-js diagnostic kept in a log line; traces can quote whole headers. */
const MAX_MESSAGE = 512;

/**
 * grpc-js quotes a metadata value it refuses ("Failed to add metadata entry authorization:
 * Bearer <caller key>. …"): that value is whatever the caller sent, so it never reaches a log.
 */
const DROPPED_ENTRY = /^Failed to add metadata entry ([^:]{1,100}): [\s\S]*$/;

function describe(message: unknown, rest: unknown[]): string {
  const text = format(message, ...rest);
  const dropped = DROPPED_ENTRY.exec(text);
  if (dropped) return `dropped request metadata entry "${dropped[1]}": its value is not valid metadata`;
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

/**
 * Sends grpc-js's own diagnostics through the service logger (and so through redaction) instead
 * of straight to stderr. grpc-js logs per process, not per server: the last logger set wins.
 * Its errors are about what callers sent, not faults of ours, so they are warnings.
 */
export function routeGrpcLogging(logger: Logger): void {
  const log = logger.child({ component: "grpc-js" });
  grpc.setLogger({
    error: (message?: unknown, ...rest: unknown[]) => log.warn(describe(message, rest)),
    info: (message?: unknown, ...rest: unknown[]) => log.info(describe(message, rest)),
    debug: (message?: unknown, ...rest: unknown[]) => log.debug(describe(message, rest)),
  });
}
