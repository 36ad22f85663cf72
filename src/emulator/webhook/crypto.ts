import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

// Event encryption and signing as the platform does them when an app has an Encrypt Key.

/** AES-256-CBC with key = SHA-256(encryptKey), random IV, PKCS#7; result = base64(IV ‖ ciphertext). */
export function encryptEvent(encryptKey: string, plaintext: string): string {
  const key = createHash("sha256").update(encryptKey).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, "utf8"), cipher.final()]).toString("base64");
}

/** Inverse of {@link encryptEvent}; used by tests and by anything reading what the emulator sent. */
export function decryptEvent(encryptKey: string, encrypted: string): string {
  const key = createHash("sha256").update(encryptKey).digest();
  const buf = Buffer.from(encrypted, "base64");
  const decipher = createDecipheriv("aes-256-cbc", key, buf.subarray(0, 16));
  return Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]).toString("utf8");
}

/** X-Lark-Signature = hex(SHA-256(timestamp + nonce + encryptKey + body)). The SDK recomputes it over
 * JSON.stringify(parsedBody), so `body` must be compact JSON.stringify output. */
export function signEvent(timestamp: string, nonce: string, encryptKey: string, body: string): string {
  return createHash("sha256")
    .update(timestamp + nonce + encryptKey + body)
    .digest("hex");
}
