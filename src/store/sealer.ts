/**
 * Seals secrets at rest (AES-256-GCM, key id inside the output: `v1.<keyId>.<b64url>`). The real
 * implementation lives in src/crypto/seal.ts; the store needs only this much of it. `aad` binds a
 * ciphertext to its row and field, so a sealed value copied to another row fails to open.
 */
export interface Sealer {
  seal(plain: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

/** The key id a sealed string names (`v1.<keyId>.<b64url>`), stored beside it for rotation. */
export function sealedKeyId(sealed: string): string {
  const [version, keyId] = sealed.split(".", 3);
  if (version !== "v1" || !keyId) throw new Error("sealer produced an unrecognised format");
  return keyId;
}

/** Sealed strings live in bytea columns as their UTF-8 bytes. */
export function sealToBytes(sealer: Sealer, plain: string, aad: string): { bytes: Buffer; keyId: string } {
  const sealed = sealer.seal(plain, aad);
  return { bytes: Buffer.from(sealed, "utf8"), keyId: sealedKeyId(sealed) };
}

export function openBytes(sealer: Sealer, bytes: Buffer, aad: string): string {
  return sealer.open(bytes.toString("utf8"), aad);
}
