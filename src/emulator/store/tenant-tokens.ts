import { newTenantToken } from "../ids.js";

interface TenantToken {
  token: string;
  appId: string;
  expiresAt: number;
}

/** Reissue once less than this is left, as Lark does (30 minutes). */
const REUSE_MARGIN_MS = 30 * 60 * 1000;

/** Tenant access tokens of self-built apps (app access tokens are the same strings for them). */
export class TenantTokens {
  readonly #byToken = new Map<string, TenantToken>();
  readonly #latest = new Map<string, TenantToken>();

  /**
   * The app's current token while it has 30 minutes or more left, else a fresh one; older tokens stay
   * valid until their own expiry, as on the real platform.
   */
  issue(appId: string, now: number, ttlMs: number): TenantToken {
    const current = this.#latest.get(appId);
    const margin = Math.min(REUSE_MARGIN_MS, ttlMs / 2);
    if (current && current.expiresAt - now >= margin) return current;
    const token: TenantToken = { token: newTenantToken(), appId, expiresAt: now + ttlMs };
    this.#byToken.set(token.token, token);
    this.#latest.set(appId, token);
    return token;
  }

  /** The app a live token belongs to; undefined for unknown or expired tokens. */
  appOf(token: string, now: number): string | undefined {
    const found = this.#byToken.get(token);
    return found && found.expiresAt > now ? found.appId : undefined;
  }

  /** Like appOf, but ignores expiry (for attributing calls to an app). */
  ownerOf(token: string): string | undefined {
    return this.#byToken.get(token)?.appId;
  }
}
