import type { EntityManager } from "@mikro-orm/postgresql";
import type { Sealer } from "../crypto/seal.js";
import type { ClaimResult, GrantChange, GrantStore, RefreshClaim } from "../domain/grants/grant.js";
import type { LarkUserTokens } from "../domain/ports.js";
import type { Database, PreparedStatement } from "./database.js";
import {
  appendGrantEvent,
  GRANT_COLUMNS,
  type GrantRow,
  grantAad,
  grantFromRow,
  toDate,
  USER_COLUMN,
  userColumn,
} from "./grant-rows.js";
import { storeCall } from "./store-errors.js";

/** Tells this process's cache at once (other replicas hear the row trigger's NOTIFY, or nothing is needed embedded). */
export type LocalChangeSignal = (change: GrantChange) => void;

interface ClaimRow {
  id: string;
  app_id: string;
  open_id: string;
  version: string | number;
  refresh_token_sealed: Buffer;
  consecutive_refresh_failures: number;
  prev_status: string;
  prev_attempt: Date | string | null;
}

/**
 * The lease claim, one statement (I1): the sub-select locks the row and yields the values before the
 * update, so the claim knows whether an earlier attempt was left without an outcome (its holder crashed
 * or lost the answer) and turns into a confirmation. Database time throughout: replicas may disagree.
 */
const CLAIM_SQL = `update user_grant g set lease_owner = ?,
  lease_expire_time = now() + (? * interval '1 millisecond'), refresh_attempt_time = now(),
  status = case when old.refresh_attempt_time is not null then 'REFRESH_UNCERTAIN' else g.status end
  from (select id, status, refresh_attempt_time from user_grant where id = ? for update) old
  where g.id = old.id and g.version = ? and g.status <> 'REAUTH_REQUIRED' and g.refresh_token_sealed is not null
    and (g.lease_expire_time is null or g.lease_expire_time <= now())
    and (g.refresh_retry_time is null or g.refresh_retry_time <= now())
  returning g.id, g.app_id, g.open_id, g.version, g.refresh_token_sealed, g.consecutive_refresh_failures,
    old.status as prev_status, old.refresh_attempt_time as prev_attempt`;

/**
 * The batch claim of the background refresher: the same columns as CLAIM_SQL, for rows due now, locked
 * with SKIP LOCKED so concurrent replicas pick disjoint rows; soonest access expiry first. Each owner is
 * `<prefix>:<grant id>`.
 */
const CLAIM_DUE_SQL = `update user_grant g set lease_owner = ? || ':' || g.id,
  lease_expire_time = now() + (? * interval '1 millisecond'), refresh_attempt_time = now(),
  status = case when old.refresh_attempt_time is not null then 'REFRESH_UNCERTAIN' else g.status end
  from (select id, status, refresh_attempt_time from user_grant
    where status <> 'REAUTH_REQUIRED' and refresh_token_sealed is not null
      and (lease_expire_time is null or lease_expire_time <= now())
      and (refresh_retry_time is null or refresh_retry_time <= now())
      and (status = 'REFRESH_UNCERTAIN' or refresh_attempt_time is not null
        or now() >= coalesce(access_issue_time, last_refresh_time, create_time)
          + (access_expire_time - coalesce(access_issue_time, last_refresh_time, create_time)) * ?::float8
        or refresh_expire_time <= now() + (? * interval '1 millisecond'))
    order by access_expire_time limit ? for update skip locked) old
  where g.id = old.id
  returning g.id, g.app_id, g.open_id, g.version, g.refresh_token_sealed, g.consecutive_refresh_failures,
    old.status as prev_status, old.refresh_attempt_time as prev_attempt`;

/** Why a claim found nothing to take. */
interface LeaseRow {
  version: string;
  status: string;
  lease: Date | string | null;
  retry: Date | string | null;
  has_rt: boolean;
  now: Date | string;
}

const FENCE = "id = ? and lease_owner = ? and version = ?";

/**
 * The reads every token request may make (the cache's misses), on the lean path: prepared once per
 * connection, no EntityManager fork (Database.query).
 */
const FIND_BY: Readonly<Record<keyof typeof USER_COLUMN, PreparedStatement>> = {
  open_id: findBy("open_id"),
  user_id: findBy("user_id"),
  union_id: findBy("union_id"),
};
const FIND_BY_ID: PreparedStatement = {
  name: "lark_auth_grant_by_id",
  text: `select ${GRANT_COLUMNS} from user_grant where id = $1`,
};

function findBy(column: keyof typeof USER_COLUMN): PreparedStatement {
  return {
    name: `lark_auth_grant_by_${column}`,
    text: `select ${GRANT_COLUMNS} from user_grant where app_id = $1 and ${USER_COLUMN[column]} = $2`,
  };
}

/** The GrantStore port: raw SQL where a statement's atomicity is the point, every call its own fork. */
export function createGrantStore(db: Database, sealer: Sealer, signal: LocalChangeSignal): GrantStore {
  const open = (row: GrantRow) => grantFromRow(row, sealer);
  const changed = (row: { app_id: string; open_id: string }) =>
    signal({ appId: row.app_id, openId: row.open_id });
  const fence = (c: RefreshClaim) => [c.grantId, c.owner, c.version];

  const markReauth = async (em: EntityManager, claim: RefreshClaim, reason: string) => {
    const rows = await em.execute<GrantRow[]>(
      `update user_grant set status = 'REAUTH_REQUIRED', status_reason = ?, lease_owner = null,
       lease_expire_time = null, refresh_attempt_time = null where ${FENCE} returning ${GRANT_COLUMNS}`,
      [reason, ...fence(claim)],
    );
    const row = rows[0];
    if (row) await appendGrantEvent(em, "REAUTHORIZATION_REQUIRED", row, reason);
    return row;
  };

  /** A claimed row as a claim; a confirmation whose own outcome was lost ends the grant instead. */
  const settleClaim = async (row: ClaimRow, owner: string): Promise<ClaimResult> => {
    const claim: RefreshClaim = {
      grantId: row.id,
      appId: row.app_id,
      openId: row.open_id,
      owner,
      version: Number(row.version),
      refreshToken: sealer.open(
        row.refresh_token_sealed.toString("utf8"),
        grantAad(row.app_id, row.open_id, "refresh"),
      ),
      confirmation: row.prev_attempt !== null || row.prev_status === "REFRESH_UNCERTAIN",
      failures: row.consecutive_refresh_failures,
    };
    // The previous attempt was itself a confirmation and its outcome is lost too: the token may be
    // burnt, and a third try could loop forever. Give up on it (I5).
    if (row.prev_attempt !== null && row.prev_status === "REFRESH_UNCERTAIN") {
      const dead = await db.em().transactional((em) => markReauth(em, claim, "REFRESH_OUTCOME_UNKNOWN"));
      if (dead) changed(dead);
      return { kind: "outcome_lost" };
    }
    return { kind: "claimed", claim };
  };

  const whyNotClaimed = async (grantId: string, version: number): Promise<ClaimResult> => {
    const [row] = await db.em().execute<LeaseRow[]>(
      `select version, status, lease_expire_time as lease, refresh_retry_time as retry,
       refresh_token_sealed is not null as has_rt, now() as now from user_grant where id = ?`,
      [grantId],
    );
    if (!row) return { kind: "unusable", reason: "NO_GRANT" };
    if (Number(row.version) !== version) return { kind: "changed" };
    if (row.status === "REAUTH_REQUIRED") return { kind: "unusable", reason: "REAUTH_REQUIRED" };
    if (!row.has_rt) return { kind: "unusable", reason: "NO_REFRESH_TOKEN" };
    const [now, lease, retry] = [toDate(row.now), toDate(row.lease), toDate(row.retry)];
    // The lease in the caller's clock: what remains of it by the database's, from now on ours.
    const local = (at: Date) => new Date(Date.now() + (at.getTime() - now.getTime()));
    if (lease && lease > now) return { kind: "held", leaseExpireTime: local(lease) };
    if (retry && retry > now) return { kind: "backoff", retryTime: local(retry) };
    return { kind: "changed" }; // freed between the two statements: just try again
  };

  return {
    find: (appId, user) =>
      storeCall("find grant", async () => {
        const statement = user.kind === "email" ? undefined : FIND_BY[user.kind];
        if (!statement) return undefined;
        const [row] = await db.query<GrantRow>(statement, [appId, user.value]);
        return row && open(row);
      }),
    findById: (grantId) =>
      storeCall("find grant", async () => {
        const [row] = await db.query<GrantRow>(FIND_BY_ID, [grantId]);
        return row && open(row);
      }),
    claimRefresh: (grantId, version, owner, leaseMs) =>
      storeCall("claim refresh", async () => {
        const [row] = await db.em().execute<ClaimRow[]>(CLAIM_SQL, [owner, leaseMs, grantId, version]);
        return row ? settleClaim(row, owner) : whyNotClaimed(grantId, version);
      }),
    claimDue: (limit, due, ownerPrefix, leaseMs) =>
      storeCall("claim due refreshes", async () => {
        const rows = await db
          .em()
          .execute<ClaimRow[]>(CLAIM_DUE_SQL, [
            ownerPrefix,
            leaseMs,
            due.threshold,
            due.refreshMarginMs,
            limit,
          ]);
        return Promise.all(rows.map((row) => settleClaim(row, `${ownerPrefix}:${row.id}`)));
      }),
    release: (claim) =>
      storeCall("release refresh claim", async () => {
        await db.em().execute(
          `update user_grant set lease_owner = null, lease_expire_time = null, refresh_attempt_time = null
             where ${FENCE}`,
          fence(claim),
        );
      }),
    commitRefresh: (claim, tokens) =>
      storeCall("commit refresh", async () => {
        const row = await db.em().transactional((em) => commit(em, sealer, claim, tokens));
        if (!row) return undefined;
        changed(row);
        return open(row);
      }),
    releaseFailed: (claim, failure) =>
      storeCall("record refresh failure", async () => {
        await db.em().execute(
          `update user_grant set lease_owner = null, lease_expire_time = null, refresh_attempt_time = null,
           refresh_retry_time = ?, consecutive_refresh_failures = consecutive_refresh_failures + 1,
           status = case when ? then 'REFRESH_UNCERTAIN' else status end where ${FENCE}`,
          [failure.retryTime ?? null, failure.uncertain, ...fence(claim)],
        );
        changed({ app_id: claim.appId, open_id: claim.openId });
      }),
    markReauthRequired: (claim, reason) =>
      storeCall("mark grant for re-authorization", async () => {
        const row = await db.em().transactional((em) => markReauth(em, claim, reason));
        if (row) changed(row);
        return row !== undefined;
      }),
    revoke: (appId, user) =>
      storeCall("revoke grant", async () => {
        const column = userColumn(user);
        if (!column) return undefined;
        const row = await db.em().transactional(async (em) => {
          const [deleted] = await em.execute<GrantRow[]>(
            `delete from user_grant where app_id = ? and ${column} = ? returning ${GRANT_COLUMNS}`,
            [appId, user.value],
          );
          if (deleted) await appendGrantEvent(em, "AUTHORIZATION_REVOKED", deleted, "REVOKED_BY_CALLER");
          return deleted;
        });
        if (!row) return undefined;
        changed(row);
        return open(row);
      }),
    updateIdentity: (grantId, id) =>
      storeCall("update grant identity", async () => {
        const [row] = await db.em().execute<{ app_id: string; open_id: string }[]>(
          `update user_grant set user_id = ?, union_id = ?, tenant_key = ?, name = ?, en_name = ?, email = ?,
           mobile = ?, avatar_url = ?, update_time = now() where id = ? and open_id = ? returning app_id, open_id`,
          [
            id.userId ?? null,
            id.unionId ?? null,
            id.tenantKey ?? null,
            id.name ?? null,
            id.enName ?? null,
            id.email ?? null,
            id.mobile ?? null,
            id.avatarUrl ?? null,
            grantId,
            id.openId,
          ],
        );
        if (row) changed(row);
      }),
  };
}

/** Writes the new pair, fenced by the claim; the event goes last. Undefined when the fence was lost. */
async function commit(
  em: EntityManager,
  sealer: Sealer,
  claim: RefreshClaim,
  tokens: LarkUserTokens,
): Promise<GrantRow | undefined> {
  const now = new Date();
  const access = sealer.seal(tokens.accessToken, grantAad(claim.appId, claim.openId, "access"));
  const refresh =
    tokens.refreshToken === undefined
      ? undefined
      : sealer.seal(tokens.refreshToken, grantAad(claim.appId, claim.openId, "refresh"));
  const refreshExpire =
    refresh && tokens.refreshExpiresIn !== undefined
      ? new Date(now.getTime() + tokens.refreshExpiresIn * 1000)
      : null;
  const [row] = await em.execute<GrantRow[]>(
    `update user_grant set access_token_sealed = ?, access_token_key_id = ?, access_expire_time = ?,
     access_issue_time = ?, refresh_token_sealed = ?, refresh_token_key_id = ?, refresh_expire_time = ?,
     scopes = coalesce(?::text[], scopes), status = 'ACTIVE', status_reason = null, version = version + 1,
     lease_owner = null, lease_expire_time = null, refresh_attempt_time = null, refresh_retry_time = null,
     last_refresh_time = ?, consecutive_refresh_failures = 0, update_time = now()
     where ${FENCE} returning ${GRANT_COLUMNS}`,
    [
      Buffer.from(access),
      sealer.currentKeyId,
      new Date(now.getTime() + tokens.expiresIn * 1000),
      now,
      refresh === undefined ? null : Buffer.from(refresh),
      refresh === undefined ? null : sealer.currentKeyId,
      refreshExpire,
      tokens.scopes.length > 0 ? textArray(tokens.scopes) : null,
      now,
      claim.grantId,
      claim.owner,
      claim.version,
    ],
  );
  if (row) await appendGrantEvent(em, "TOKEN_REFRESHED", row, null);
  return row;
}

/** A PostgreSQL text[] literal; every element quoted and escaped. */
function textArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}
