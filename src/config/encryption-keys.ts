import type { EncryptionKey } from "./types.js";

/** How an operator makes a key; printed when the setting is missing, so the fix is one paste away. */
export const GENERATE_KEY_HINT =
  "node -e \"console.log('k1='+require('crypto').randomBytes(32).toString('base64'))\"";

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
// Standard or URL-safe alphabet, optional padding; the decoded length is checked separately.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/**
 * Parses `key_id=<base64 of 32 bytes>[,…]` (the first seals, all open). Problems go to `problems`,
 * prefixed with `setting`, and name entries by position and id only: never any key material.
 */
export function parseEncryptionKeys(spec: string, setting: string, problems: string[]): EncryptionKey[] {
  const keys: EncryptionKey[] = [];
  spec.split(",").forEach((raw, i) => {
    const entry = raw.trim();
    const eq = entry.indexOf("=");
    const id = eq > 0 ? entry.slice(0, eq) : "";
    const material = eq > 0 ? entry.slice(eq + 1) : "";
    if (!KEY_ID.test(id) || material === "") {
      problems.push(
        `${setting}: entry ${i + 1} must be key_id=<base64 of 32 random bytes>, key_id 1-32 of A-Z a-z 0-9 _ -`,
      );
      return;
    }
    const key = BASE64.test(material) ? Buffer.from(material, "base64") : undefined;
    if (key?.length !== 32) {
      problems.push(`${setting}: key ${id} must be the base64 of exactly 32 bytes`);
      return;
    }
    if (keys.some((k) => k.id === id)) {
      problems.push(`${setting}: key id ${id} is listed twice`);
      return;
    }
    keys.push(Object.freeze({ id, key }));
  });
  return keys;
}
