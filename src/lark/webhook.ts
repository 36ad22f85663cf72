import { createDecipheriv, createHash, timingSafeEqual } from "node:crypto";

/** An app as the webhook receiver knows it. */
export interface WebhookApp {
  readonly appId: string;
  readonly verificationToken?: string;
  readonly encryptKey?: string;
}

/** The request as it came: headers lower-cased by Node, the body's exact bytes as text. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Why a request was refused; never echoes what it carried. */
export type WebhookRefusal =
  | "malformed"
  | "unknown_app"
  | "bad_signature"
  | "bad_token"
  | "stale"
  | "replayed"
  | "not_encrypted";

export type WebhookVerdict =
  | {
      readonly ok: true;
      readonly app: WebhookApp;
      readonly envelope: Record<string, unknown>;
      /** Forgets the request's nonce: an answer that asks Lark to retry must not refuse the retry. */
      readonly forget: () => void;
    }
  | { readonly ok: false; readonly refusal: WebhookRefusal };

export interface WebhookVerifierOptions {
  /** How far X-Lark-Request-Timestamp may be from now, either way. */
  readonly maxSkewSeconds: number;
  readonly now?: () => number;
}

const header = (req: WebhookRequest, name: string) => {
  const v = req.headers[name];
  return typeof v === "string" && v !== "" ? v : undefined;
};

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest();

function sameSecret(a: string, b: string): boolean {
  // Compared as digests: equal lengths, so timingSafeEqual cannot throw or leak the length.
  return timingSafeEqual(sha256(a), sha256(b));
}

/** AES-256-CBC with key SHA-256(encrypt_key), body base64(IV ‖ ciphertext) (lark-platform.md §8.3). */
export function decryptEnvelope(encryptKey: string, encrypted: string): string {
  const buf = Buffer.from(encrypted, "base64");
  const decipher = createDecipheriv("aes-256-cbc", sha256(encryptKey), buf.subarray(0, 16));
  return Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]).toString("utf8");
}

/** X-Lark-Signature = hex(SHA-256(timestamp + nonce + encrypt_key + body)) over the body's exact bytes. */
export function webhookSignature(timestamp: string, nonce: string, encryptKey: string, body: string): string {
  return createHash("sha256")
    .update(timestamp + nonce + encryptKey + body, "utf8")
    .digest("hex");
}

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function parse(text: string): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The verification token an envelope carries: `header.token` (schema 2.0), else `token` (1.0, challenge). */
function tokenOf(envelope: Record<string, unknown>): unknown {
  return asObject(envelope.header)?.token ?? envelope.token;
}

/**
 * Checks a POST /lark/events request the way the platform signs it, and finds its app:
 * - an encrypted body must carry a valid X-Lark-Signature under one app's encrypt key (which names
 *   the app), and decrypt under it; a plain body is refused for an app that has an encrypt key;
 * - the envelope's verification token must be the app's;
 * - X-Lark-Request-Timestamp must be within `maxSkewSeconds` of now, and its nonce (with the
 *   timestamp) not seen before within that window: a captured request cannot be played again.
 * Nonces are remembered per replica; a replay sent to another replica is still handled once, by the
 * event inbox.
 */
export function createWebhookVerifier(apps: readonly WebhookApp[], options: WebhookVerifierOptions) {
  const now = options.now ?? Date.now;
  const windowMs = options.maxSkewSeconds * 1000;
  const seen = new Map<string, number>();

  function fresh(timestamp: string | undefined, nonce: string | undefined): WebhookRefusal | undefined {
    if (!timestamp || !nonce || !/^[0-9]{1,12}$/.test(timestamp)) return "malformed";
    const at = Number(timestamp) * 1000;
    const t = now();
    if (Math.abs(t - at) > windowMs) return "stale";
    for (const [k, expiry] of seen) if (expiry < t) seen.delete(k);
    const key = `${timestamp}\n${nonce}`;
    if (seen.has(key)) return "replayed";
    seen.set(key, at + windowMs);
    return undefined;
  }

  type Opened = { app: WebhookApp; envelope: Record<string, unknown> } | { refusal: WebhookRefusal };

  function open(req: WebhookRequest, body: Record<string, unknown>): Opened {
    const encrypted = body.encrypt;
    if (typeof encrypted !== "string") {
      const token = tokenOf(body);
      const app = apps.find(
        (a) => typeof token === "string" && a.verificationToken && sameSecret(token, a.verificationToken),
      );
      if (!app) return { refusal: "bad_token" };
      return app.encryptKey ? { refusal: "not_encrypted" } : { app, envelope: body };
    }
    const signature = header(req, "x-lark-signature");
    const timestamp = header(req, "x-lark-request-timestamp") ?? "";
    const nonce = header(req, "x-lark-request-nonce") ?? "";
    if (!signature) return { refusal: "bad_signature" };
    const app = apps.find(
      (a) =>
        a.encryptKey && sameSecret(signature, webhookSignature(timestamp, nonce, a.encryptKey, req.body)),
    );
    if (!app?.encryptKey) return { refusal: "bad_signature" };
    let envelope: Record<string, unknown> | undefined;
    try {
      envelope = parse(decryptEnvelope(app.encryptKey, encrypted));
    } catch {
      envelope = undefined;
    }
    return envelope ? { app, envelope } : { refusal: "malformed" };
  }

  return function verify(req: WebhookRequest): WebhookVerdict {
    const body = parse(req.body);
    if (!body) return { ok: false, refusal: "malformed" };
    const opened = open(req, body);
    if ("refusal" in opened) return { ok: false, refusal: opened.refusal };
    const { app, envelope } = opened;
    const token = tokenOf(envelope);
    if (typeof token !== "string" || !app.verificationToken || !sameSecret(token, app.verificationToken))
      return { ok: false, refusal: "bad_token" };
    const claimed = asObject(envelope.header)?.app_id;
    if (claimed !== undefined && claimed !== app.appId) return { ok: false, refusal: "unknown_app" };
    const timestamp = header(req, "x-lark-request-timestamp");
    const nonce = header(req, "x-lark-request-nonce");
    const stale = fresh(timestamp, nonce);
    if (stale) return { ok: false, refusal: stale };
    return { ok: true, app, envelope, forget: () => seen.delete(`${timestamp}\n${nonce}`) };
  };
}
