import { createHash, hash, randomBytes } from "node:crypto";

/** Hex SHA-256 of a caller key: what configuration and storage hold instead of the key. */
export function hashCallerKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** A new random caller key (256 bits), prefixed so scanners and the log scrubber recognise it. */
export function generateCallerKey(): string {
  return `lak_${randomBytes(32).toString("base64url")}`;
}

/**
 * Finds the entry whose hash matches `presented`, in time independent of which entry
 * matches or how many leading characters agree: every stored hash is compared in full.
 */
export function findByKey<T extends { keySha256: string }>(
  entries: readonly T[],
  presented: string,
): T | undefined {
  // Hex output: on Node 24 the one-shot hash is several times faster as hex than as a Buffer,
  // and this runs on every call.
  const digest = hash("sha256", presented, "hex");
  let found: T | undefined;
  for (const entry of entries) {
    if (constantTimeEqual(entry.keySha256, digest)) found ??= entry;
  }
  return found;
}

/** Compares two equal-length strings without an early exit (lengths are public: both are hex SHA-256). */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
