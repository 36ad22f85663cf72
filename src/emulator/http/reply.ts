import { newLogId } from "../ids.js";
import type { Reply } from "./types.js";

export const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({
  status,
  body,
  headers,
});

/** The generic `{code, msg, error:{log_id}}` failure most Open Platform APIs answer. */
export function larkError(status: number, code: number, msg: string, logId?: string): Reply {
  return json(status, { code, msg, error: { log_id: logId ?? newLogId() } });
}

/** The 99991400 answer with the headers Lark's gateway adds. */
export function rateLimited(limit: number, resetSeconds: number): Reply {
  return json(
    429,
    { code: 99991400, msg: "request trigger frequency limit", error: { log_id: newLogId() } },
    { "x-ogw-ratelimit-limit": String(limit), "x-ogw-ratelimit-reset": String(resetSeconds) },
  );
}

export const html = (status: number, markup: string, headers?: Record<string, string>): Reply => ({
  status,
  body: markup,
  headers: { "content-type": "text/html; charset=utf-8", ...headers },
});

export const redirect = (location: string, headers?: Record<string, string>): Reply => ({
  status: 302,
  headers: { location, ...headers },
});

/** What Lark's gateway answers for an unknown path or method. */
export const notFound = (): Reply => ({
  status: 404,
  body: "404 page not found",
  headers: { "content-type": "text/plain; charset=utf-8" },
});

/** A control-API failure (not a Lark shape: `/_emulator` is ours). */
export const controlError = (status: number, message: string): Reply => json(status, { error: message });
