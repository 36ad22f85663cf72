import { createHash, randomBytes, randomUUID } from "node:crypto";

/** Random lowercase hex of `length` characters. */
export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString("hex")
    .slice(0, length);
}

/** Random URL-safe text of `length` characters, the alphabet Lark uses for codes. */
export function randomUrlSafe(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString("base64url")
    .slice(0, length);
}

/** Stable hex digest of the parts; ids derived from it survive an emulator restart. */
export function digestHex(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}

/** A self-built app id: the SDK's WSClient refuses anything but `cli_` + 16 hex. */
export const newAppId = (): string => `cli_${randomHex(16)}`;
export const newAppSecret = (): string => randomUrlSafe(32);
export const newTenantKey = (seed: string): string => digestHex("tenant", seed).slice(0, 16);
export const newTenantToken = (): string => `t-g${randomHex(39)}`;
export const newMessageId = (): string => `om_${randomHex(32)}`;
export const newCardToken = (): string => `c-${randomHex(40)}`;
export const newEventId = (): string => randomHex(32);
export const newLogId = (): string =>
  `${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}${randomHex(18)}`;
export const newUuid = (): string => randomUUID();

/** Open ids are scoped per app: the same person has a different `ou_` id in every app. */
export const openIdFor = (tenantKey: string, seed: string, appId: string): string =>
  `ou_${digestHex("open_id", tenantKey, seed, appId).slice(0, 32)}`;

/** Union ids are scoped per developer; the emulator treats the tenant as the developer. */
export const unionIdFor = (tenantKey: string, seed: string): string =>
  `on_${digestHex("union_id", tenantKey, seed).slice(0, 32)}`;

/** User ids are scoped per tenant and look like the short ids Lark assigns by default. */
export const userIdFor = (tenantKey: string, seed: string): string =>
  digestHex("user_id", tenantKey, seed).slice(0, 8);

/** The p2p chat between an app's bot and a user. */
export const p2pChatIdFor = (appId: string, userKey: string): string =>
  `oc_${digestHex("p2p", appId, userKey).slice(0, 32)}`;

/** A user-facing device code like `ABCD-EFGH` (no vowels or look-alikes, as RFC 8628 suggests). */
export function newUserCode(): string {
  const alphabet = "BCDFGHJKLMNPQRSTVWXZ";
  const bytes = randomBytes(8);
  const chars = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}

/**
 * A JWT-shaped opaque token (`eyJ…`), like the v2/v3 OAuth tokens; the signature part is random, so
 * nobody can mint one, and the claims only help a human reading logs.
 */
export function newJwtLikeToken(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = part({ alg: "ES256", typ: "JWT", kid: "emulator" });
  return `${header}.${part({ ...claims, jti: randomUUID() })}.${randomBytes(64).toString("base64url")}`;
}
