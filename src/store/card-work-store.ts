import type { EntityManager } from "@mikro-orm/postgresql";
import type { CardWork, CardWorkStore } from "../domain/jobs.js";
import type { SessionState } from "../domain/sessions/session.js";
import type { Database } from "./database.js";
import { AuthEventSchema, AuthSessionSchema } from "./entities/index.js";
import { sessionFromRow } from "./session-mapper.js";
import { storeCall } from "./store-errors.js";

/** Seals a secret with the row identity as associated data (src/crypto/seal.ts fits). */
export interface Sealer {
  /** Returns `v1.<keyId>.<b64url>`. */
  seal(plain: string, aad: string): string;
}

interface CardRow {
  id: string;
  card_message: string | null;
  card_privacy_url: string | null;
  card_description_style: "DETAILED" | "CONCISE";
  card_chat_id: string | null;
  card_synced_state: SessionState | null;
  card_attempts: number;
  device_user_code: string | null;
}

const CARD_COLUMNS =
  "id, card_message, card_privacy_url, card_description_style, card_chat_id, card_synced_state, card_attempts, device_user_code";

/**
 * The CardWorkStore port on MikroORM. The claim is one `update ... where id in (select ... for update
 * skip locked) returning`: replicas racing for due rows each get different ones, and a claim is
 * durable the moment it returns (a lease), so no transaction is held while Lark is called.
 * Bookkeeping only: the `card_*`/`device_*` columns, plus the FAILED transition of `fail`.
 */
export function createCardWorkStore(db: Database, sealer: Sealer): CardWorkStore {
  const run = (sql: string, params: unknown[]) => db.em().execute(sql, params);
  return {
    claimDue: (now, leaseMs, limit) =>
      storeCall("claim card work", async () => {
        const em = db.em();
        const rows = await em.execute<CardRow[]>(
          `update auth_session set card_next_attempt_time = ? where id in (select id from auth_session
           where card_next_attempt_time <= ? order by card_next_attempt_time limit ? for update skip locked)
           returning ${CARD_COLUMNS}`,
          [lease(now, leaseMs), now, limit],
        );
        return load(em, rows);
      }),
    claim: (sessionId, now, leaseMs) =>
      storeCall("claim card work", async () => {
        const em = db.em();
        const rows = await em.execute<CardRow[]>(
          `update auth_session set card_next_attempt_time = ? where id = (select id from auth_session
           where id = ? and card_next_attempt_time <= ? for update skip locked) returning ${CARD_COLUMNS}`,
          [lease(now, leaseMs), sessionId, now],
        );
        return (await load(em, rows))[0];
      }),
    saveDeviceAuthorization: (sessionId, d) =>
      storeCall("save device authorization", async () => {
        const sealed = sealer.seal(d.deviceCode, `session:${sessionId}:device_code`);
        await run(
          `update auth_session set authorize_url = ?, device_user_code = ?, device_code_sealed = ?,
           device_code_key_id = ?, device_interval_seconds = ?, device_next_poll_time = ?
           where id = ? and state = 'PENDING'`,
          [
            d.authorizeUrl,
            d.userCode,
            Buffer.from(sealed),
            keyIdOf(sealed),
            d.intervalSeconds,
            d.nextPollTime,
            sessionId,
          ],
        );
      }),
    markSent: (sessionId, sent, now) =>
      storeCall("mark card sent", async () => {
        // A session that finished while its card was on the way stays due, so the card is updated next.
        await run(
          `update auth_session set card_message_id = ?, card_chat_id = ?, card_synced_state = 'PENDING',
           card_attempts = 0, card_next_attempt_time = case when state <> 'PENDING' then ?::timestamptz end
           where id = ?`,
          [sent.messageId, sent.chatId ?? null, now, sessionId],
        );
      }),
    markSynced: (sessionId, state, now) =>
      storeCall("mark card synced", async () => {
        await run(
          `update auth_session set card_synced_state = ?, card_attempts = 0,
           card_next_attempt_time = case when state <> ? then ?::timestamptz end where id = ?`,
          [state, state, now, sessionId],
        );
      }),
    reschedule: (sessionId, attempts, at) =>
      storeCall("reschedule card work", async () => {
        await run("update auth_session set card_attempts = ?, card_next_attempt_time = ? where id = ?", [
          attempts,
          at,
          sessionId,
        ]);
      }),
    settle: (sessionId) =>
      storeCall("settle card work", async () => {
        await run("update auth_session set card_attempts = 0, card_next_attempt_time = null where id = ?", [
          sessionId,
        ]);
      }),
    fail: (sessionId, reason, message, now) =>
      storeCall("fail session", () =>
        db.em().transactional((em) => failSession(em, sessionId, reason, message, now)),
      ),
  };
}

function lease(now: Date, leaseMs: number): Date {
  return new Date(now.getTime() + leaseMs);
}

/** The key id inside a `v1.<keyId>.<payload>` sealed string. */
function keyIdOf(sealed: string): string {
  const keyId = sealed.split(".")[1];
  if (!keyId) throw new Error("sealer returned a value without a key id");
  return keyId;
}

/** Joins claimed card rows to their sessions (one query), keeping the claim order. */
async function load(em: EntityManager, rows: CardRow[]): Promise<CardWork[]> {
  if (rows.length === 0) return [];
  const sessions = await em.find(AuthSessionSchema, { id: { $in: rows.map((r) => r.id) } });
  const byId = new Map(sessions.map((s) => [s.id, sessionFromRow(s)]));
  return rows.flatMap((r) => {
    const session = byId.get(r.id);
    if (!session) return [];
    const inputs = {
      descriptionStyle: r.card_description_style,
      ...(r.card_message != null && { message: r.card_message }),
      ...(r.card_privacy_url != null && { privacyPolicyUrl: r.card_privacy_url }),
      ...(r.device_user_code != null && { userCode: r.device_user_code }),
    };
    return [
      {
        session,
        inputs,
        attempts: r.card_attempts,
        ...(r.card_synced_state != null && { syncedState: r.card_synced_state }),
        ...(r.card_chat_id != null && { chatId: r.card_chat_id }),
      },
    ];
  });
}

/** PENDING -> FAILED and its event, in the caller's transaction; the event is written last (it takes the log lock). */
async function failSession(
  em: EntityManager,
  sessionId: string,
  reason: string,
  message: string,
  now: Date,
): Promise<boolean> {
  const changed = await em.execute<{ id: string }[]>(
    `update auth_session set state = 'FAILED', failure_reason = ?, failure_message = ?, complete_time = ?,
     card_next_attempt_time = null, version = version + 1 where id = ? and state = 'PENDING' returning id`,
    [reason, message, now, sessionId],
  );
  if (changed.length === 0) return false;
  const row = await em.findOneOrFail(AuthSessionSchema, { id: sessionId });
  const session = sessionFromRow(row);
  await em.insert(AuthEventSchema, {
    type: "FAILED",
    appId: session.appId,
    sessionId,
    openId: session.identity?.openId ?? null,
    reason,
    payload: { session: JSON.parse(JSON.stringify(session)) },
  });
  return true;
}
