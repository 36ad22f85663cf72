import { createHash, timingSafeEqual } from "node:crypto";

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** RFC 7636 check; `plain` is Lark's default method when a challenge is sent without one. */
export function verifyPkce(challenge: string, method: "S256" | "plain", verifier: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  const derived = method === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
  const a = Buffer.from(derived);
  const b = Buffer.from(challenge);
  return a.length === b.length && timingSafeEqual(a, b);
}
