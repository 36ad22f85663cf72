import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebhookAnswer } from "../lark/webhook-receiver.js";
import type { Route } from "./server.js";

/** Where Lark POSTs events and card callbacks in webhook mode (the app's request URL). */
export const LARK_EVENTS_PATH = "/lark/events";

/** Lark's envelopes are a few KiB; a card callback with a form stays far below this. */
const MAX_BODY_BYTES = 256 * 1024;

type Receive = (req: { headers: IncomingMessage["headers"]; body: string }) => Promise<WebhookAnswer>;

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/** Reads the body's exact bytes (the signature covers them), refusing more than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** POST /lark/events: the body read and bounded here, everything else decided by `receive`. */
export function createLarkWebhookRoute(receive: Receive): Route {
  return async (req, res) => {
    const body = await readBody(req);
    if (body === undefined) {
      res.shouldKeepAlive = false;
      return reply(res, 413, { error: "too_large" });
    }
    const answer = await receive({ headers: req.headers, body });
    reply(res, answer.status, answer.body);
  };
}
