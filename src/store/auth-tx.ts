import type { EntityManager } from "@mikro-orm/postgresql";
import type { AuthTx, AuthUnitOfWork, Clock } from "../domain/ports.js";
import type { AuthSession } from "../domain/sessions/session.js";
import type { UserRef } from "../domain/users.js";
import type { Database } from "./database.js";
import { AuthSessionSchema } from "./entities/index.js";
import { appendEvent } from "./event-writer.js";
import { activeGrantScopes, upsertSealedGrant } from "./grant-writer.js";
import type { Sealer } from "./sealer.js";
import { SessionTx } from "./session-tx.js";
import { storeCall } from "./store-errors.js";
import { sessionsRequestedFor, userLockKey } from "./user-match.js";

/** What the unit of work needs besides the database: the sealer for secrets, the clock for stamps. */
export interface AuthUnitOfWorkDeps {
  readonly sealer: Sealer;
  readonly clock: Clock;
  /**
   * Told what a committed transaction changed. PostgreSQL wakes other replicas by NOTIFY triggers;
   * the embedded database cannot pass NOTIFY between its connections, so this in-process signal is
   * what wakes its event watchers and drops cached grants there.
   */
  readonly afterCommit?: (committed: CommittedChanges) => void;
}

/** What one committed transaction wrote that others may be waiting for. */
export interface CommittedChanges {
  readonly events: number;
  readonly grants: readonly { readonly appId: string; readonly openId: string }[];
}

/**
 * The AuthUnitOfWork port on MikroORM: each `run` is one transaction on a fresh fork, committed when
 * the work resolves, rolled back when it throws. Work must not await anything on another connection
 * (on the embedded database that deadlocks) and must not call Lark: do that between transactions.
 */
export function createAuthUnitOfWork(db: Database, deps: AuthUnitOfWorkDeps): AuthUnitOfWork {
  return {
    run: async (work) => {
      const changes = { events: 0, grants: [] as { appId: string; openId: string }[] };
      const result = await storeCall("auth transaction", () =>
        db.em().transactional((em) => work(createAuthTx(em, deps, changes))),
      );
      if (deps.afterCommit && (changes.events > 0 || changes.grants.length > 0)) deps.afterCommit(changes);
      return result;
    },
  };
}

function createAuthTx(
  em: EntityManager,
  deps: AuthUnitOfWorkDeps,
  changes: { events: number; grants: { appId: string; openId: string }[] },
): AuthTx {
  const sessions = new SessionTx(em, deps.sealer, () => deps.clock.now());
  return {
    lockUser: (appId, user) => advisoryLock(em, userLockKey(appId, user)),
    sessionByIdempotencyKey: async (appId, key) => {
      // Two starts with one key for different users do not share a user lock; this one makes the
      // second wait for the first to commit, then find its session instead of hitting the unique index.
      await advisoryLock(em, `lark_auth.idempotency:${appId}:${key}`);
      return firstOf(sessions.lockWhere({ appId, idempotencyKey: key }, 1));
    },
    recentStarts: (appId, user, since) => recentStarts(em, appId, user, since),
    pendingFor: (appId, user) => sessions.pendingFor(appId, user),
    grantScopes: (appId, user) => activeGrantScopes(em, appId, user),
    insertSession: (session, card, secrets) => sessions.insert(session, card, secrets),
    lockSession: (id) => sessions.lock(id),
    cardChatId: async (sessionId) => {
      const row = await em.findOne(
        AuthSessionSchema,
        { id: sessionId },
        { fields: ["cardChatId"], disableIdentityMap: true },
      );
      return row?.cardChatId ?? undefined;
    },
    consumeState: (hash) => sessions.consumeState(hash),
    armState: (sessionId, hash, verifier) => sessions.armState(sessionId, hash, verifier),
    releaseState: (sessionId) => sessions.releaseState(sessionId),
    openSecrets: (sessionId) => sessions.openSecrets(sessionId),
    claimExpired: (now, limit) =>
      sessions.lockWhere({ state: "PENDING", expireTime: { $lte: now } }, limit, true),
    updateSession: (session, card) => sessions.update(session, card),
    upsertGrant: async (grant) => {
      await upsertSealedGrant(em, deps.sealer, grant, deps.clock.now());
      changes.grants.push({ appId: grant.appId, openId: grant.identity.openId });
    },
    appendEvent: async (event) => {
      await appendEvent(em, event);
      changes.events += 1;
    },
  };
}

/** A transaction-scoped advisory lock: released at commit or rollback, never leaked. */
async function advisoryLock(em: EntityManager, key: string): Promise<void> {
  await em.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [key]);
}

async function firstOf(rows: Promise<AuthSession[]>): Promise<AuthSession | undefined> {
  return (await rows)[0];
}

async function recentStarts(
  em: EntityManager,
  appId: string,
  user: UserRef,
  since: Date,
): Promise<{ count: number; oldest?: Date }> {
  // The window holds at most a few rows (the limit caps them), so reading their times is cheap.
  const rows = await em.find(
    AuthSessionSchema,
    { $and: [{ appId, createTime: { $gt: since } }, sessionsRequestedFor(user)] },
    { fields: ["createTime"], orderBy: { createTime: "asc" }, disableIdentityMap: true },
  );
  return { count: rows.length, ...(rows[0] && { oldest: rows[0].createTime }) };
}
