import type { FilterQuery } from "@mikro-orm/postgresql";
import type { SessionCursor, SessionPage, SessionQuery, SessionStore } from "../domain/ports.js";
import { isCursorInRange } from "../domain/sessions/page-token.js";
import { isSessionId } from "../domain/sessions/session.js";
import type { Database } from "./database.js";
import { AuthSessionSchema, type IAuthSession } from "./entities/index.js";
import { sessionFromRow, sessionToRow } from "./session-mapper.js";
import { storeCall } from "./store-errors.js";
import { sessionsOfUser } from "./user-match.js";

/**
 * The SessionStore port on MikroORM. Each call runs in its own EntityManager fork, so no identity
 * map outlives a call and callers always read what is committed.
 */
export function createSessionStore(db: Database): SessionStore {
  return {
    get: (id) =>
      storeCall("get session", async () => {
        // A malformed id names no session; asking PostgreSQL would only raise a cast error.
        if (!isSessionId(id)) return undefined;
        const row = await db.em().findOne(AuthSessionSchema, { id });
        return row ? sessionFromRow(row) : undefined;
      }),
    list: (query, limit, after) => storeCall("list sessions", () => listSessions(db, query, limit, after)),
    insert: (session) =>
      storeCall("insert session", async () => {
        await db.em().insert(AuthSessionSchema, sessionToRow(session));
      }),
  };
}

async function listSessions(
  db: Database,
  query: SessionQuery,
  limit: number,
  after?: SessionCursor,
): Promise<SessionPage> {
  // Callers are told about bad sizes and tokens by request validation and the domain; reaching
  // here with either is a wiring bug, stopped before SQL (where a year-10000 instant or a non-UUID
  // id fails as a database error).
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError("page limit must be a positive integer");
  if (after && !isCursorInRange(after)) throw new RangeError("session cursor out of range");
  const where: FilterQuery<IAuthSession>[] = [{ appId: query.appId }];
  if (query.states && query.states.length > 0) where.push({ state: { $in: [...query.states] } });
  if (query.user) where.push(sessionsOfUser(query.user));
  if (after) where.push(before(after));
  // One row more than asked tells whether another page exists without a count query.
  const rows = await db
    .em()
    .find(
      AuthSessionSchema,
      { $and: where },
      { orderBy: { createTime: "desc", id: "desc" }, limit: limit + 1 },
    );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next = rows.length > limit && last ? { createTime: last.createTime, id: last.id } : undefined;
  return { sessions: page.map(sessionFromRow), next };
}

/** Rows strictly after the cursor in (create_time desc, id desc) order. */
function before(cursor: SessionCursor): FilterQuery<IAuthSession> {
  return {
    createTime: { $lte: cursor.createTime },
    $or: [{ createTime: { $lt: cursor.createTime } }, { id: { $lt: cursor.id } }],
  };
}
