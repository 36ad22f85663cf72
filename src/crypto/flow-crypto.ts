import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { FlowCrypto } from "../domain/ports.js";

/**
 * The flow's randomness and hashing on node:crypto. Every random value comes from the CSPRNG:
 * the OAuth state and the PKCE verifier are bearer secrets until they are used.
 */
export function createFlowCrypto(): FlowCrypto {
  return {
    randomToken(bytes) {
      // 128 bits is the floor for anything an attacker could otherwise guess (state, verifier).
      if (!Number.isInteger(bytes) || bytes < 16) throw new RangeError("randomToken needs at least 16 bytes");
      return randomBytes(bytes).toString("base64url");
    },
    sha256Hex: (value) => createHash("sha256").update(value, "utf8").digest("hex"),
    // RFC 7636 S256: BASE64URL(SHA256(ASCII(verifier))), no padding.
    pkceChallenge: (verifier) => createHash("sha256").update(verifier, "ascii").digest("base64url"),
    uuid: () => randomUUID(),
  };
}
