import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Sealer } from "../../src/store/sealer.js";

/**
 * A small but real AES-256-GCM sealer for tests, in the format of src/crypto/seal.ts
 * (`v1.<keyId>.<b64url(nonce | ciphertext | tag)>`): the first key seals, every key opens.
 */
export function testSealer(keys: Record<string, Buffer> = { k1: randomBytes(32) }): Sealer {
  const [current] = Object.keys(keys);
  if (!current) throw new Error("testSealer needs a key");
  return {
    seal(plain, aad) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", keys[current] as Buffer, nonce);
      cipher.setAAD(Buffer.from(aad, "utf8"));
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return `v1.${current}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString("base64url")}`;
    },
    open(sealed, aad) {
      const [version, keyId, data] = sealed.split(".");
      const key = keyId === undefined ? undefined : keys[keyId];
      if (version !== "v1" || !key || !data) throw new Error("unknown sealed format or key");
      const raw = Buffer.from(data, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString(
        "utf8",
      );
    },
  };
}
