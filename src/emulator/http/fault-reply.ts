import { STATUS_CODES } from "node:http";
import type { FaultInput } from "../faults.js";
import { newLogId } from "../ids.js";
import { defaultStatusFor, oauthFaultBody } from "../oauth/errors.js";
import { json } from "./reply.js";
import type { Reply } from "./types.js";

const OAUTH_PATHS = ["/open-apis/authen/v2/oauth/token", "/oauth/v3/token", "/oauth/v1/device_authorization"];

const KNOWN_MESSAGES: Record<number, string> = {
  99991400: "request trigger frequency limit",
  99991661: "Missing access token for authorization. Please make a request with token attached.",
  99991663: "Invalid access token for authorization. Please make a request with token attached.",
  99991668: "Invalid access token for authorization. Please make a request with token attached.",
  99991677: "token expire",
};

/**
 * The answer of an injected fault, shaped like the real one on that path: the OAuth endpoints' `{code,
 * error, error_description}`, the gateway's `{code, msg, error}` elsewhere, the rate-limit headers for
 * 99991400, and a bare status line body when only an HTTP status is asked for.
 */
export function faultReply(fault: FaultInput, path: string): Reply {
  if (fault.code === undefined) {
    const status = fault.status ?? 500;
    return {
      status,
      body: fault.msg ?? STATUS_CODES[status] ?? "error",
      headers: { "content-type": "text/plain; charset=utf-8" },
    };
  }
  const status = fault.status ?? defaultStatusFor(fault.code);
  const headers =
    fault.code === 99991400 ? { "x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": "1" } : undefined;
  if (OAUTH_PATHS.includes(path)) return json(status, oauthFaultBody(fault.code, fault.msg), headers);
  const msg = fault.msg ?? KNOWN_MESSAGES[fault.code] ?? "fault injected by the emulator";
  return json(status, { code: fault.code, msg, error: { log_id: newLogId() } }, headers);
}
