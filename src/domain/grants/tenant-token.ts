import { assertCan, type Caller } from "../callers.js";
import { DomainError, DomainErrorCode } from "../errors.js";
import { isLarkError } from "../lark-error.js";
import type { Clock, LarkGateway } from "../ports.js";

export interface TenantToken {
  readonly token: string;
  readonly expireTime: Date;
}

export interface TenantTokens {
  get(caller: Caller, appId: string): Promise<TenantToken>;
}

/** Refetch once less than this is left, so a caller always gets a token with a useful life. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * GetTenantAccessToken: one cached token per app, refetched before expiry, one fetch per app at a
 * time (concurrent callers share it). Lark failures are LARK_UNAVAILABLE (transient) or APP_NOT_FOUND.
 */
export function createTenantTokens(deps: {
  lark: Pick<LarkGateway, "getTenantAccessToken">;
  clock: Clock;
}): TenantTokens {
  const cached = new Map<string, TenantToken>();
  const fetching = new Map<string, Promise<TenantToken>>();

  const fetch = (appId: string): Promise<TenantToken> => {
    let shared = fetching.get(appId);
    if (!shared) {
      shared = deps.lark
        .getTenantAccessToken(appId)
        .then((t) => {
          cached.set(appId, t);
          return t;
        }, mapLarkError)
        .finally(() => fetching.delete(appId));
      fetching.set(appId, shared);
    }
    return shared;
  };

  return {
    async get(caller, appId) {
      assertCan(caller, "token:read", appId);
      const hit = cached.get(appId);
      if (hit && hit.expireTime.getTime() - deps.clock.now().getTime() > REFRESH_MARGIN_MS) return hit;
      return fetch(appId);
    },
  };
}

function mapLarkError(err: unknown): never {
  if (!isLarkError(err)) throw err;
  if (err.kind === "transient")
    throw new DomainError(DomainErrorCode.LARK_UNAVAILABLE, "Lark could not issue a tenant token", {
      retryAfterMs: (err.retryAfterSeconds ?? 1) * 1000,
    });
  // Code 0 without an answer: the app is not configured here. Anything else is Lark refusing the app.
  if (err.code === 0) throw new DomainError(DomainErrorCode.APP_NOT_FOUND, "the app is not configured");
  throw new DomainError(
    DomainErrorCode.LARK_UNAVAILABLE,
    "Lark refused to issue a tenant token for this app",
    {
      metadata: { lark_code: String(err.code) },
    },
  );
}
