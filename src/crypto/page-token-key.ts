import { hkdfSync } from "node:crypto";

/** HKDF info of the page-token key: a new purpose or format gets a new label, never a reused key. */
export const PAGE_TOKEN_KEY_INFO = "lark-auth page-token v1";

/**
 * The key that signs ListAuthSessions page tokens, derived (HKDF-SHA256) from the first of the
 * configured encryption keys. Every replica holds the same encryption keys, so each accepts the
 * tokens the others issued; deriving keeps the sealing key itself out of a second use.
 */
export function derivePageTokenKey(encryptionKey: Uint8Array): Buffer {
  if (encryptionKey.byteLength !== 32) throw new RangeError("an encryption key has 32 bytes");
  return Buffer.from(hkdfSync("sha256", encryptionKey, new Uint8Array(0), PAGE_TOKEN_KEY_INFO, 32));
}
