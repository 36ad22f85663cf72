import { defineEntity, type InferEntity, p } from "@mikro-orm/core";
import { LarkAppSchema } from "./lark-app.entity.js";

/** The closed event vocabulary of the contract's AuthEventType. */
export const AUTH_EVENT_TYPES = [
  "SESSION_CREATED",
  "AUTHORIZED",
  "DECLINED",
  "EXPIRED",
  "FAILED",
  "CANCELLED",
  "TOKEN_REFRESHED",
  "REAUTHORIZATION_REQUIRED",
  "AUTHORIZATION_REVOKED",
] as const;
export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

/**
 * The durable, ordered event log; `id` is the resume cursor.
 *
 * Gap-free reading (reliability-plan finding 6): a sequence hands out ids at insert time, but
 * transactions commit in any order, so a reader doing `id > last` could pass an id whose
 * transaction commits later and skip it forever. The `auth_event_serialize_writers` constraint
 * trigger is deferred to COMMIT: there it takes a transaction-scoped advisory lock and gives each
 * inserted row its final id (`id = default`), so event-writing transactions take their final ids and
 * commit one at a time: once an id is visible, every smaller id is visible or rolled back. The id a
 * row gets at insert is provisional and never visible. Readers stay a plain
 * `where id > $cursor order by id`. Taking the lock inside COMMIT keeps it off the client's round
 * trips (migration 20261201061500); a writer that needs the final id before commit sets the
 * constraint IMMEDIATE (store/event-writer.ts). On embedded PGlite every transaction is already
 * serialized, and the lock (held by the one shared session) never blocks. The trigger and its
 * function are raw DDL (a constraint trigger has no entity form): change them in a migration. No foreign key to `auth_session`: the log outlives pruned sessions and vice versa.
 */
export const AuthEventSchema = defineEntity({
  name: "AuthEvent",
  tableName: "auth_event",
  properties: {
    // An identity, not bigserial: nobody can insert an id of their choosing and break the order.
    id: p.bigint("string").primary().autoincrement().columnType("bigint").generated("identity"),
    type: p.enum(AUTH_EVENT_TYPES),
    occurTime: p.datetime().defaultRaw("now()"),
    appId: p.manyToOne(LarkAppSchema).mapToPk().fieldName("app_id"),
    sessionId: p.uuid().nullable(),
    openId: p.text().nullable(),
    reason: p.text().nullable(),
    /** A snapshot of the session/identity at the time of the event; never tokens or secrets. */
    payload: p.json<Record<string, unknown>>().columnType("jsonb"),
  },
  checks: [{ name: "auth_event_payload_is_object", expression: "jsonb_typeof(payload) = 'object'" }],
  indexes: [
    { name: "auth_event_app_id_idx", properties: ["appId", "id"] },
    { name: "auth_event_session_idx", properties: ["sessionId"], where: "session_id is not null" },
    // The retention pruner deletes by age.
    { name: "auth_event_occur_time_idx", properties: ["occurTime"] },
  ],
  triggers: [
    {
      name: "auth_event_serialize_writers",
      timing: "after",
      events: ["insert"],
      forEach: "row",
      expression:
        'create constraint trigger "auth_event_serialize_writers" after insert on "auth_event" deferrable initially deferred for each row execute function "auth_event_auth_event_serialize_writers_fn"();',
    },
    // Keeps auth_event_horizon (the highest id ever deleted) exact, whoever deletes: see that entity.
    {
      name: "auth_event_advance_horizon",
      timing: "after",
      events: ["delete"],
      forEach: "row",
      body: "update auth_event_horizon set pruned_through = greatest(pruned_through, old.id) where id = 1; return null;",
    },
    // Wakes the event readers of every replica at commit (folded per transaction); they also poll.
    {
      name: "auth_event_notify",
      timing: "after",
      events: ["insert"],
      forEach: "statement",
      body: "perform pg_notify('lark_auth_events', ''); return null;",
    },
  ],
});

export type IAuthEvent = InferEntity<typeof AuthEventSchema>;
