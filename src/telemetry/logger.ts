import { type DestinationStream, type Logger, pino } from "pino";
import { redact, redactError, scrubString } from "./redact.js";

export type { Logger } from "pino";

/**
 * Creates the service logger: one JSON object per line, every record passed through the
 * redaction layer (keys and string contents), so a secret cannot reach a log by accident.
 */
export function createLogger(opts: {
  level: string;
  destination?: DestinationStream;
  base?: object;
}): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: "lark-auth-service", ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: "msg",
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
      // formatters.log runs first and already turns errors into redacted plain objects.
      serializers: { err: (err: unknown) => (err instanceof Error ? redactError(err) : err) },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === "string" ? scrubString(a) : a));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    opts.destination,
  );
}
