import type { EntityManager } from "@mikro-orm/postgresql";
import type { GrantWrite } from "../domain/ports.js";
import type { UserRef } from "../domain/users.js";
import { UserGrantSchema } from "./entities/index.js";
import { type Sealer, sealToBytes } from "./sealer.js";
import { grantOfUser } from "./user-match.js";

/** AAD of a grant's token: the row's identity, so a ciphertext moved to another grant or field fails to open. */
export function grantAad(appId: string, openId: string, field: "access" | "refresh"): string {
  return `grant:${appId}:${openId}:${field}`;
}

/** Scopes of the user's ACTIVE grant, or undefined without one. */
export async function activeGrantScopes(
  em: EntityManager,
  appId: string,
  user: UserRef,
): Promise<readonly string[] | undefined> {
  const row = await em.findOne(
    UserGrantSchema,
    { $and: [{ appId, status: "ACTIVE" }, grantOfUser(user)] },
    { fields: ["scopes"], disableIdentityMap: true },
  );
  return row ? [...row.scopes] : undefined;
}

const UPSERT_GRANT = `
insert into user_grant (id, app_id, open_id, user_id, union_id, tenant_key, name, en_name, email, mobile,
  avatar_url, scopes, access_token_sealed, access_token_key_id, access_expire_time, refresh_token_sealed,
  refresh_token_key_id, refresh_expire_time, status, create_time, update_time, access_issue_time)
values (gen_random_uuid(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::text[], ?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?)
on conflict (app_id, open_id) do update set
  user_id = excluded.user_id, union_id = excluded.union_id, tenant_key = excluded.tenant_key,
  name = excluded.name, en_name = excluded.en_name, email = excluded.email, mobile = excluded.mobile,
  avatar_url = excluded.avatar_url, scopes = excluded.scopes,
  access_token_sealed = excluded.access_token_sealed, access_token_key_id = excluded.access_token_key_id,
  access_expire_time = excluded.access_expire_time, refresh_token_sealed = excluded.refresh_token_sealed,
  refresh_token_key_id = excluded.refresh_token_key_id, refresh_expire_time = excluded.refresh_expire_time,
  status = 'ACTIVE', consecutive_refresh_failures = 0, lease_owner = null, lease_expire_time = null,
  refresh_attempt_time = null, refresh_retry_time = null, status_reason = null,
  access_issue_time = excluded.access_issue_time, update_time = excluded.update_time,
  -- A new authorization fences out any refresher still holding the old pair.
  version = user_grant.version + 1`;

/**
 * Stores (or replaces) the user's grant with both tokens sealed; the plaintext goes no further than
 * the sealer. One statement, so two completions for one user leave one row, the last one written.
 */
export async function upsertSealedGrant(
  em: EntityManager,
  sealer: Sealer,
  grant: GrantWrite,
  now: Date,
): Promise<void> {
  const { appId, identity: id } = grant;
  const access = sealToBytes(sealer, grant.accessToken, grantAad(appId, id.openId, "access"));
  const refresh = sealToBytes(sealer, grant.refreshToken, grantAad(appId, id.openId, "refresh"));
  await em.execute(UPSERT_GRANT, [
    appId,
    id.openId,
    id.userId ?? null,
    id.unionId ?? null,
    id.tenantKey ?? null,
    id.name ?? null,
    id.enName ?? null,
    id.email ?? null,
    id.mobile ?? null,
    id.avatarUrl ?? null,
    `{${grant.scopes.map((s) => JSON.stringify(s)).join(",")}}`,
    access.bytes,
    access.keyId,
    grant.accessExpireTime,
    refresh.bytes,
    refresh.keyId,
    grant.refreshExpireTime ?? null,
    now,
    now,
    // The refresher's threshold counts the token's lifetime from here.
    now,
  ]);
}
