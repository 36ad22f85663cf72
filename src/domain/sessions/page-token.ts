import { createHmac, timingSafeEqual } from "node:crypto";
import { invalidArgument } from "../errors.js";
import type { SessionCursor, SessionQuery } from "../ports.js";
import { isSessionId } from "./session.js";

/** What any page token that is not ours, or not for this query, is told (one message, one owner). */
export const PAGE_TOKEN_PROBLEM = "is not a page token this service issued for this query";

/** Tokens are base64url and short; anything else is refused before it is decoded or echoed. */
export function isPageTokenShaped(token: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(token);
}

/** Issues and opens the opaque page tokens of ListAuthSessions. */
export interface PageTokens {
  /** A token naming `cursor`, valid only with the same `query` (app and filters). */
  issue(cursor: SessionCursor, query: SessionQuery): string;
  /** The cursor `token` names; INVALID_ARGUMENT when forged, altered or issued for other filters. */
  open(token: string, query: SessionQuery): SessionCursor;
}

const VERSION = 1;
// version (1) | create time, ms since the epoch (int64 BE, 8) | session id (UUID bytes, 16)
const BODY_BYTES = 25;
const MAC_BYTES = 32;
/** 10000-01-01: later instants have no ISO-8601 form PostgreSQL parses. */
const MAX_CURSOR_MS = 253_402_300_800_000;

/** True when the cursor can be put to SQL as is: a UUID and an instant in years 1970-9999. */
export function isCursorInRange(cursor: SessionCursor): boolean {
  const ms = cursor.createTime.getTime();
  return Number.isInteger(ms) && ms >= 0 && ms < MAX_CURSOR_MS && isSessionId(cursor.id);
}

/** The filters a token is bound to, in one canonical form (emails compare case-insensitively). */
function bindingOf(query: SessionQuery): string {
  const user = query.user
    ? [query.user.kind, query.user.kind === "email" ? query.user.value.toLowerCase() : query.user.value]
    : [];
  const states = [...new Set(query.states ?? [])].sort();
  return JSON.stringify([query.appId, user, states]);
}

/**
 * Page tokens as base64url(body | HMAC-SHA256(key, body | filters)). The MAC makes a token
 * unforgeable and binds it to the query it was issued for, so a caller can neither point the
 * keyset at rows of its choosing nor carry a cursor across filters; every replica sharing `key`
 * accepts the tokens of the others. The key is at least 32 bytes.
 */
export function createPageTokens(key: Uint8Array): PageTokens {
  if (key.byteLength < 32) throw new RangeError("a page-token key has at least 32 bytes");
  const macOf = (body: Uint8Array, query: SessionQuery) =>
    createHmac("sha256", key).update(body).update(bindingOf(query)).digest();
  const refused = () => invalidArgument("page_token", PAGE_TOKEN_PROBLEM);
  return {
    issue(cursor, query) {
      if (!isCursorInRange(cursor)) throw new RangeError("cursor out of range");
      const body = Buffer.alloc(BODY_BYTES);
      body.writeUInt8(VERSION, 0);
      body.writeBigInt64BE(BigInt(cursor.createTime.getTime()), 1);
      body.write(cursor.id.replaceAll("-", ""), 9, "hex");
      return Buffer.concat([body, macOf(body, query)]).toString("base64url");
    },
    open(token, query) {
      const raw = isPageTokenShaped(token) ? Buffer.from(token, "base64url") : undefined;
      if (raw?.length !== BODY_BYTES + MAC_BYTES) throw refused();
      const body = raw.subarray(0, BODY_BYTES);
      // Constant time: how much of a guessed MAC is right must not show in the answer's timing.
      if (!timingSafeEqual(raw.subarray(BODY_BYTES), macOf(body, query))) throw refused();
      if (body[0] !== VERSION) throw refused();
      const cursor = { createTime: new Date(Number(body.readBigInt64BE(1))), id: uuidOf(body.subarray(9)) };
      if (!isCursorInRange(cursor)) throw refused();
      return cursor;
    },
  };
}

function uuidOf(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
