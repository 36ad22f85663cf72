import type { IncomingMessage } from "node:http";

/** Cards are at most 30 KB and text 150 KB; anything much larger is a client bug. */
const MAX_BODY_BYTES = 1024 * 1024;

export async function readRawBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Parses JSON or form bodies by content type. Lark's OAuth endpoints accept both, and the SDK sends a
 * JSON `{}` even on GET, so an empty or unexpected body is not an error by itself.
 */
export function parseBody(
  raw: string,
  contentType: string | undefined,
): { body: Record<string, unknown>; error?: string } {
  if (raw.trim() === "") return { body: {} };
  if (contentType?.includes("application/x-www-form-urlencoded")) {
    return { body: Object.fromEntries(new URLSearchParams(raw)) };
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return { body: parsed as Record<string, unknown> };
    }
    return { body: {}, error: "body is not a JSON object" };
  } catch {
    return { body: {}, error: "body is not valid JSON" };
  }
}

/** `decodeURIComponent`, or the text as it came when it is not valid percent-encoding. */
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header?.split(";") ?? []) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim()] = safeDecode(part.slice(eq + 1).trim());
  }
  return out;
}

/** `Basic base64(id:secret)` credentials, if that is what the header carries. */
export function parseBasicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? "");
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return {
    id: safeDecode(decoded.slice(0, colon)),
    secret: safeDecode(decoded.slice(colon + 1)),
  };
}

/** The token of a `Bearer` header, or undefined when the header is missing or of another kind. */
export function parseBearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/.exec(header ?? "");
  return match?.[1];
}

/** A body field as a string ("" when missing or not a string). */
export function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === "string" ? value : "";
}
