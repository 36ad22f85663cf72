import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

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
 * matches or how many leading bytes agree: every stored hash is compared in full.
 */
export function findByKey<T extends { keySha256: string }>(
  entries: readonly T[],
  presented: string,
): T | undefined {
  const digest = createHash("sha256").update(presented, "utf8").digest();
  let found: T | undefined;
  for (const entry of entries) {
    const stored = Buffer.from(entry.keySha256, "hex");
    if (stored.length === digest.length && timingSafeEqual(stored, digest)) found ??= entry;
  }
  return found;
}
