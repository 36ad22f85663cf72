import type { EntityManager } from "@mikro-orm/postgresql";
import type { Sealer } from "../crypto/seal.js";
import type { GrantStatus, StoredGrant } from "../domain/grants/grant.js";
import type { UserIdentity, UserRef } from "../domain/users.js";

/** The columns a StoredGrant is read from (never the refresh token). */
export const GRANT_COLUMNS = `id, app_id, open_id, user_id, union_id, tenant_key, name, en_name, email, mobile,
  avatar_url, scopes, access_token_sealed, access_expire_time, access_issue_time, last_refresh_time,
  create_time, refresh_expire_time, status, version, lease_expire_time, refresh_retry_time`;

export interface GrantRow {
  id: string;
  app_id: string;
  open_id: string;
  user_id: string | null;
  union_id: string | null;
  tenant_key: string | null;
  name: string | null;
  en_name: string | null;
  email: string | null;
  mobile: string | null;
  avatar_url: string | null;
  scopes: string[];
  access_token_sealed: Buffer;
  access_expire_time: Date | string;
  access_issue_time: Date | string | null;
  last_refresh_time: Date | string | null;
  create_time: Date | string;
  refresh_expire_time: Date | string | null;
  status: GrantStatus;
  version: string | number;
  lease_expire_time: Date | string | null;
  refresh_retry_time: Date | string | null;
}

/** AAD binding a sealed token to its row and field (the flow seals the same way). */
export const grantAad = (appId: string, openId: string, field: "access" | "refresh") =>
  `grant:${appId}:${openId}:${field}`;

/** The column a user reference of each kind is looked up by (email: never, grants are keyed by ids). */
export const USER_COLUMN = { open_id: "open_id", user_id: "user_id", union_id: "union_id" } as const;

export function userColumn(user: UserRef): string | undefined {
  return user.kind === "email" ? undefined : USER_COLUMN[user.kind];
}

/** Optional identity fields and the columns they are read from. */
const IDENTITY_FIELDS = [
  ["userId", "user_id"],
  ["unionId", "union_id"],
  ["tenantKey", "tenant_key"],
  ["name", "name"],
  ["enName", "en_name"],
  ["email", "email"],
  ["mobile", "mobile"],
  ["avatarUrl", "avatar_url"],
] as const satisfies readonly (readonly [keyof UserIdentity, keyof GrantRow])[];

export function identityOf(row: GrantRow): UserIdentity {
  const id: { -readonly [K in keyof UserIdentity]: UserIdentity[K] } = { openId: row.open_id };
  // Empty columns are left out. A plain loop: a cold token read builds one identity per call.
  for (const [field, column] of IDENTITY_FIELDS) {
    const value = row[column];
    if (value !== null && value !== "") id[field] = value;
  }
  return id;
}

/** Raw queries hand timestamps back as strings (MikroORM leaves pg's date parsing off). */
export function toDate(value: Date | string): Date;
export function toDate(value: Date | string | null): Date | undefined;
export function toDate(value: Date | string | null): Date | undefined {
  if (value === null) return undefined;
  return value instanceof Date ? value : new Date(value);
}

/** Opens the access token; a value that fails to open throws (fail closed, I11), it is never served. */
export function grantFromRow(row: GrantRow, sealer: Sealer): StoredGrant {
  const accessToken = sealer.open(
    row.access_token_sealed.toString("utf8"),
    grantAad(row.app_id, row.open_id, "access"),
  );
  return {
    id: row.id,
    appId: row.app_id,
    identity: identityOf(row),
    scopes: row.scopes,
    accessToken,
    accessExpireTime: toDate(row.access_expire_time),
    // Grants written before the issue time was kept: the last write of a pair is the best estimate.
    accessIssueTime: toDate(row.access_issue_time ?? row.last_refresh_time ?? row.create_time),
    status: row.status,
    version: Number(row.version),
    ...(row.refresh_expire_time && { refreshExpireTime: toDate(row.refresh_expire_time) }),
    ...(row.lease_expire_time && { leaseExpireTime: toDate(row.lease_expire_time) }),
    ...(row.refresh_retry_time && { refreshRetryTime: toDate(row.refresh_retry_time) }),
  };
}

/** Snapshot for an event payload: who, never a token. */
export function eventPayload(row: GrantRow, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const id = identityOf(row);
  return { identity: JSON.parse(JSON.stringify(id)), scopes: row.scopes, ...extra };
}

/** Appends an event; call it last in the transaction (it takes the event log's lock). */
export async function appendGrantEvent(
  em: EntityManager,
  type: "TOKEN_REFRESHED" | "REAUTHORIZATION_REQUIRED" | "AUTHORIZATION_REVOKED",
  row: GrantRow,
  reason: string | null,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await em.execute(
    "insert into auth_event (type, app_id, open_id, reason, payload) values (?, ?, ?, ?, ?::jsonb)",
    [type, row.app_id, row.open_id, reason, JSON.stringify(eventPayload(row, extra))],
  );
}
