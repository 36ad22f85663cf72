import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from "node:crypto";

/** One encryption key: a short public id (stored in every ciphertext) and 32 secret bytes. */
export interface SealingKey {
  readonly id: string;
  readonly key: Buffer;
}

/** Why a sealed value could not be opened; the message never carries plaintext, key or ciphertext. */
export type SealFailure = "malformed" | "unknown_key" | "authentication_failed";

export class SealError extends Error {
  override readonly name = "SealError";
  constructor(
    readonly reason: SealFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Seals secrets at rest (AES-256-GCM) under the newest key; opens under any configured key. */
export interface Sealer {
  /** The id of the key new values are sealed under. */
  readonly currentKeyId: string;
  /** `aad` names the row the value belongs to (e.g. `grant:<app_id>:<open_id>:access`). */
  seal(plain: string, aad: string): string;
  /** Throws `SealError` for an unknown key, a changed byte, or a value sealed for another row. */
  open(sealed: string, aad: string): string;
  /** True when the value is sealed under an older key and should be re-sealed. */
  needsReseal(sealed: string): boolean;
}

const VERSION = "v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
// A key id is written between dots in the sealed format, so it may not contain one.
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

function checkKeys(keys: readonly SealingKey[]): void {
  if (keys.length === 0) throw new SealError("unknown_key", "no sealing key is configured");
  const seen = new Set<string>();
  for (const { id, key } of keys) {
    if (!KEY_ID.test(id)) throw new SealError("malformed", "a sealing key id must match [A-Za-z0-9_-]{1,32}");
    if (key.length !== KEY_BYTES)
      throw new SealError("malformed", `sealing key "${id}" must be ${KEY_BYTES} bytes`);
    if (seen.has(id)) throw new SealError("malformed", `sealing key id "${id}" is configured twice`);
    seen.add(id);
  }
}

/**
 * The header (version and key id) is authenticated along with the row identity, so neither the key id
 * nor the row a value belongs to can be changed without the tag failing.
 */
const associatedData = (keyId: string, aad: string) => Buffer.from(`${VERSION}.${keyId}.${aad}`, "utf8");

function parse(sealed: string): { keyId: string; blob: Buffer } {
  const parts = sealed.split(".");
  const [version, keyId, body] = parts;
  if (parts.length !== 3 || version !== VERSION || !keyId || !body)
    throw new SealError("malformed", "sealed value is not in the v1 format");
  const blob = Buffer.from(body, "base64url");
  if (blob.length < NONCE_BYTES + TAG_BYTES) throw new SealError("malformed", "sealed value is truncated");
  return { keyId, blob };
}

/** Builds a sealer over `keys`: the first key seals, every key opens (rotation without downtime). */
export function createSealer(keys: readonly SealingKey[]): Sealer {
  checkKeys(keys);
  // Key objects made once: given raw bytes, every cipher would build one of its own, which costs
  // more than the decryption of a token (a cold token read opens one per call).
  const byId = new Map<string, KeyObject>(keys.map((k) => [k.id, createSecretKey(k.key)]));
  const current = keys[0] as SealingKey;
  const currentKey = byId.get(current.id) as KeyObject;

  return {
    currentKeyId: current.id,
    seal(plain, aad) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv("aes-256-gcm", currentKey, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(associatedData(current.id, aad));
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      const blob = Buffer.concat([nonce, body, cipher.getAuthTag()]);
      return `${VERSION}.${current.id}.${blob.toString("base64url")}`;
    },
    open(sealed, aad) {
      const { keyId, blob } = parse(sealed);
      const key = byId.get(keyId);
      if (!key) throw new SealError("unknown_key", `sealed under key "${keyId}", which is not configured`);
      const nonce = blob.subarray(0, NONCE_BYTES);
      const tag = blob.subarray(blob.length - TAG_BYTES);
      const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(keyId, aad));
      decipher.setAuthTag(tag);
      try {
        // Decoded by the decipher itself: no concatenated copy to turn into a string afterwards.
        return (
          decipher.update(blob.subarray(NONCE_BYTES, -TAG_BYTES), undefined, "utf8") + decipher.final("utf8")
        );
      } catch {
        // GCM cannot tell a changed byte from a value sealed for another row; both fail the same way.
        throw new SealError(
          "authentication_failed",
          "sealed value failed authentication (tampered or wrong row)",
        );
      }
    },
    needsReseal: (sealed) => parse(sealed).keyId !== current.id,
  };
}
