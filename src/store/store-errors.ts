import { ConnectionException } from "@mikro-orm/core";
import { DomainError, DomainErrorCode } from "../domain/errors.js";
import { withDbSpan } from "../telemetry/db-spans.js";

/**
 * Runs a store operation so that an unreachable database surfaces as the domain's
 * STORE_UNAVAILABLE (retryable, no SQL or host names in the message); the driver error stays
 * attached as the cause for logs. Every other error, constraint violations included, passes
 * through unchanged: those are bugs or conflicts the caller must see as they are. Each operation
 * is a database span when its caller is traced.
 */
export async function storeCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await withDbSpan(operation, run);
  } catch (err) {
    if (isUnavailable(err)) {
      throw new DomainError(
        DomainErrorCode.STORE_UNAVAILABLE,
        `the database is unavailable (${operation})`,
        {},
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

/** SQLSTATEs meaning "the server is not there for you right now", not "your statement is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
const UNAVAILABLE_SOCKET = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE"]);
/** `pg` reports a connection lost under an idle or in-transaction client with these, and no code. */
const LOST_CONNECTION =
  /^(Connection terminated( unexpectedly)?|Client (has encountered a connection error|was closed) and is not queryable)$/;

function isUnavailable(err: unknown): boolean {
  if (err instanceof ConnectionException) return true;
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === "string" && LOST_CONNECTION.test(message)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  // Connection exceptions (class 08), admin/crash shutdown (57P0x) and too many connections, as
  // MikroORM passes them through; socket errors come from `pg` before MikroORM wraps them.
  return typeof code === "string" && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_SOCKET.has(code));
}
