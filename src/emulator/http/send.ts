import { type ServerResponse, STATUS_CODES } from "node:http";
import { newLogId } from "../ids.js";
import type { Reply } from "./types.js";

/** Writes a reply; every answer carries an `X-Tt-Logid`, as the real gateway's do. */
export function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  const headers: Record<string, string> = { "x-tt-logid": newLogId(), ...reply.headers };
  let payload: string | Buffer = "";
  if (typeof reply.body === "string" || Buffer.isBuffer(reply.body)) {
    payload = reply.body;
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers["content-type"] ??= "application/json; charset=utf-8";
  }
  headers["content-length"] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, STATUS_CODES[reply.status], headers);
  res.end(payload);
}
