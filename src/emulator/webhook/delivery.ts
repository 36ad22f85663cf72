import { randomBytes, randomUUID } from "node:crypto";
import { encryptEvent, signEvent } from "./crypto.js";

// HTTP delivery of events and card callbacks to an app's request URL, the alternative to the long
// connection: signed (and, with an Encrypt Key, encrypted) POSTs, retried while the app does not
// answer HTTP 200 in time.

export type WebhookApp = { webhookUrl: string; encryptKey?: string; verificationToken: string };

export type WebhookOptions = {
  /** Pause before each retry; its length bounds the retries. The platform waits minutes to hours,
   * tests want milliseconds. */
  retryDelaysMs?: readonly number[];
  /** The platform wants HTTP 200 within 3 s. */
  timeoutMs?: number;
};

export type WebhookResult = { acked: boolean; response?: unknown; attempts: number };

export const defaultWebhookOptions: Readonly<Required<WebhookOptions>> = Object.freeze({
  retryDelaysMs: Object.freeze([100, 300, 900]),
  timeoutMs: 3000,
});

type Answer = { status: number; text: string };

/** Compact JSON.stringify output, since the SDK signs JSON.stringify(parsedBody), not the raw bytes. */
function wireBody(app: WebhookApp, message: object): string {
  const json = JSON.stringify(message);
  return app.encryptKey ? JSON.stringify({ encrypt: encryptEvent(app.encryptKey, json) }) : json;
}

function headersFor(app: WebhookApp, body: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(8).toString("hex");
  const headers: Record<string, string> = {
    "Content-Type": "application/json; charset=utf-8",
    "X-Lark-Request-Timestamp": timestamp,
    "X-Lark-Request-Nonce": nonce,
  };
  if (app.encryptKey) headers["X-Lark-Signature"] = signEvent(timestamp, nonce, app.encryptKey, body);
  return headers;
}

/** One POST; undefined when the app could not be reached or did not answer within the timeout. */
async function post(app: WebhookApp, message: object, timeoutMs: number): Promise<Answer | undefined> {
  const body = wireBody(app, message);
  try {
    const res = await fetch(app.webhookUrl, {
      method: "POST",
      headers: headersFor(app, body),
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

/** The body is JSON for callbacks, but the SDK answers some cases with an empty body (e.g. a failed
 * signature check) or a bare string; keep whatever came. */
function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function deliverWebhook(
  app: WebhookApp,
  payload: object,
  options: WebhookOptions = {},
): Promise<WebhookResult> {
  const { retryDelaysMs, timeoutMs } = { ...defaultWebhookOptions, ...options };
  let attempts = 0;
  for (;;) {
    attempts++;
    const answer = await post(app, payload, timeoutMs);
    if (answer?.status === 200) {
      const response = parseBody(answer.text);
      return response === undefined ? { acked: true, attempts } : { acked: true, response, attempts };
    }
    const delay = retryDelaysMs[attempts - 1];
    if (delay === undefined) return { acked: false, attempts };
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** The console's request-URL check: the app must echo the challenge back (decrypting it first when
 * an Encrypt Key is set). */
export async function verifyWebhookUrl(app: WebhookApp, options: WebhookOptions = {}): Promise<boolean> {
  const challenge = randomUUID();
  const message = { challenge, token: app.verificationToken, type: "url_verification" };
  const answer = await post(app, message, options.timeoutMs ?? defaultWebhookOptions.timeoutMs);
  if (answer?.status !== 200) return false;
  const body = parseBody(answer.text);
  return (
    typeof body === "object" && body !== null && (body as { challenge?: unknown }).challenge === challenge
  );
}
