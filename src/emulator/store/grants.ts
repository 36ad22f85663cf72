/** What a user has granted an app: scopes accumulate across authorizations until revoked. */
export interface Grant {
  appId: string;
  userKey: string;
  scopes: Set<string>;
  grantedAt: number;
  /** Bumped on revocation: tokens minted under an older epoch are dead. */
  epoch: number;
  revoked: boolean;
}

export interface AuthorizationCode {
  code: string;
  appId: string;
  userKey: string;
  scopes: string[];
  redirectUri: string;
  codeChallenge?: string;
  codeChallengeMethod?: "S256" | "plain";
  expiresAt: number;
  used: boolean;
  /** The grant's epoch when the code was issued: a revocation in between (even followed by a new
   * approval, which starts yet another epoch) makes the code worthless, as it does the tokens. */
  epoch: number;
}

export interface AccessTokenRecord {
  appId: string;
  userKey: string;
  scopes: string[];
  expiresAt: number;
  epoch: number;
}

export interface RefreshTokenRecord extends AccessTokenRecord {
  used: boolean;
}

const grantKey = (appId: string, userKey: string) => `${appId}\n${userKey}`;

/** Grants, codes and user tokens; all single-process, all in memory. */
export class GrantStore {
  readonly #grants = new Map<string, Grant>();
  readonly codes = new Map<string, AuthorizationCode>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();

  grant(appId: string, userKey: string): Grant | undefined {
    return this.#grants.get(grantKey(appId, userKey));
  }

  /** Records consent; a revoked grant starts over with only the new scopes and a new grant date. */
  approve(appId: string, userKey: string, scopes: string[], now: number): Grant {
    const key = grantKey(appId, userKey);
    const existing = this.#grants.get(key);
    if (existing && !existing.revoked) {
      for (const scope of scopes) existing.scopes.add(scope);
      return existing;
    }
    const grant: Grant = {
      appId,
      userKey,
      scopes: new Set(scopes),
      grantedAt: now,
      epoch: (existing?.epoch ?? 0) + 1,
      revoked: false,
    };
    this.#grants.set(key, grant);
    return grant;
  }

  /** Kills every access and refresh token of the grant; returns false when there was none. */
  revoke(appId: string, userKey: string): boolean {
    const grant = this.#grants.get(grantKey(appId, userKey));
    if (!grant || grant.revoked) return false;
    grant.revoked = true;
    grant.epoch += 1;
    grant.scopes.clear();
    return true;
  }

  /** Apps the user currently has a live grant with. */
  grantsOf(userKey: string): Grant[] {
    return [...this.#grants.values()].filter((g) => g.userKey === userKey && !g.revoked);
  }

  /** True while the token's (or code's) grant has not been revoked since it was minted. */
  isCurrent(record: { appId: string; userKey: string; epoch: number }): boolean {
    const grant = this.grant(record.appId, record.userKey);
    return grant !== undefined && grant.epoch === record.epoch;
  }
}
