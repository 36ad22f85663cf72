import * as lark from "@larksuiteoapi/node-sdk";
import type { Logger } from "../telemetry/logger.js";

type SdkLevel = "error" | "warn" | "info" | "debug" | "trace";
type PinoLevel = "warn" | "info" | "debug" | "trace";

/**
 * The SDK logs every failed call at error level, and we turn each failure into a typed LarkError that
 * the caller reports; so SDK errors are warnings here, and SDK info (connect, reconnect) stays info.
 */
const LEVELS: Record<SdkLevel, PinoLevel> = {
  error: "warn",
  warn: "warn",
  info: "info",
  debug: "debug",
  trace: "trace",
};

const pick = (value: unknown, key: string): unknown =>
  value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;

/**
 * A whitelist view of one thing the SDK logged. The SDK logs raw axios errors and `formatErrors`
 * objects, which hold the request body (app secret, card content) and headers (tenant token): only a
 * message, a status and Lark's code and msg survive. Strings go through the logger's own scrubbing.
 */
function summarize(value: unknown): unknown {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (Array.isArray(value)) return value.slice(0, 5).map(summarize);
  if (!value || typeof value !== "object") return undefined;
  const response = pick(value, "response");
  const data = pick(response, "data") ?? value;
  const out = {
    message: pick(value, "message"),
    status: pick(response, "status") ?? pick(value, "status"),
    // Not `code`: the logger redacts that key, since OAuth authorization codes travel under it.
    larkCode: pick(data, "code"),
    msg: pick(data, "msg") ?? pick(data, "error"),
  };
  return Object.fromEntries(
    Object.entries(out).filter(([, v]) => typeof v === "string" || typeof v === "number"),
  );
}

/**
 * A logger for the SDK's `logger` option that writes through our redacting pino logger. `demote` writes
 * everything at debug: for the long connection, whose supervisor reports each change of state itself.
 */
export function sdkLogger(logger: Logger, opts: { demote?: boolean } = {}): lark.Logger {
  const write = (sdkLevel: SdkLevel) => (args: unknown) => {
    const level = opts.demote ? "debug" : sdkLevel;
    // The SDK's LoggerProxy hands its varargs over as one array, and logs `formatErrors` as another.
    const parts = (Array.isArray(args) ? args : [args]).flat().map(summarize);
    const text = parts.filter((p) => typeof p === "string").join(" ");
    const details = parts.filter((p) => typeof p !== "string" && p !== undefined);
    const log = logger[LEVELS[level]].bind(logger);
    if (details.length > 0) log({ component: "lark-sdk", sdk: details }, text || "lark sdk");
    else log({ component: "lark-sdk" }, text || "lark sdk");
  };
  return {
    error: write("error"),
    warn: write("warn"),
    info: write("info"),
    debug: write("debug"),
    trace: write("trace"),
  };
}

/** The SDK filters before calling the logger; ask it for no more than pino would print. */
export function sdkLoggerLevel(logger: Logger): lark.LoggerLevel {
  if (logger.isLevelEnabled("trace")) return lark.LoggerLevel.trace;
  if (logger.isLevelEnabled("debug")) return lark.LoggerLevel.debug;
  if (logger.isLevelEnabled("info")) return lark.LoggerLevel.info;
  return lark.LoggerLevel.warn;
}
