import { type DestinationStream, type Logger, pino } from "pino";
import { redact, redactError, scrubBounded } from "./redact.js";
import { traceFields } from "./tracing.js";

export type { Logger } from "pino";

/**
 * Creates the service logger: one JSON object per line, every record passed through the
 * redaction layer (keys and string contents, bounded in size), so a secret cannot reach a log
 * by accident. That covers the fields of each call, the message, and the bindings of child
 * loggers (`logger.child({...})`), which pino serializes apart from the fields.
 */
export function createLogger(opts: {
  level: string;
  destination?: DestinationStream;
  base?: object;
}): Logger {
  const logger = pino(
    {
      level: opts.level,
      base: { service: "lark-auth-service", ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: "msg",
      // Each line names the trace it was written in, so logs and spans join up.
      mixin: () => traceFields(),
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj) as Record<string, unknown>,
        bindings: (bindings) => redact(bindings) as Record<string, unknown>,
      },
      // formatters.log runs first and already turns errors into redacted plain objects.
      serializers: { err: (err: unknown) => (err instanceof Error ? redactError(err) : err) },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === "string" ? scrubBounded(a) : a));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    opts.destination,
  );
  // Bindings skip formatters.log, and pino applies formatters.bindings to the root's base only
  // (children get an identity formatter), so a child's bindings are redacted here. An own property
  // of the root: pino builds every descendant with Object.create(parent), so all inherit it.
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, options) {
    return child.call(this, redact(bindings) as typeof bindings, options);
  } as Logger["child"];
  return logger;
}
