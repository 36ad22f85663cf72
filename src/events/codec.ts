import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { z } from "zod";
import {
  type WatchAuthEventsResponse,
  WatchAuthEventsResponseSchema,
} from "../../gen/lark/auth/v1/auth_service_pb.js";
import { type AuthEvent, AuthEventSchema, AuthEventType } from "../../gen/lark/auth/v1/types_pb.js";
import type { StoredAuthEvent } from "../domain/events.js";
import type { AuthEventType as EventType } from "../domain/ports.js";
import type { AuthSession } from "../domain/sessions/session.js";
import { SESSION_STATES } from "../domain/sessions/session.js";
import type { UserIdentity } from "../domain/users.js";
import { identityToPb, sessionToPb } from "../wire/codec.js";

/**
 * The one payload codec: a stored event row to the protobuf AuthEvent. The payload contract
 * (store/event-writer.ts) is `{ session?: <AuthSession JSON, ISO dates>, identity?: <UserIdentity> }`.
 * A part that does not parse is left out rather than failing the stream: an event is still worth
 * delivering with its id, type, app and session id.
 */

const opt = z.string().optional();
const identitySchema = z.object({
  openId: z.string(),
  userId: opt,
  unionId: opt,
  tenantKey: opt,
  name: opt,
  enName: opt,
  email: opt,
  mobile: opt,
  avatarUrl: opt,
});
const date = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const sessionSchema = z.object({
  id: z.string(),
  appId: z.string(),
  user: z.object({ kind: z.enum(["open_id", "user_id", "union_id", "email"]), value: z.string() }),
  state: z.enum(SESSION_STATES as [AuthSession["state"], ...AuthSession["state"][]]),
  flow: z.enum(["REDIRECT", "DEVICE"]),
  requestedScopes: z.array(z.string()),
  identity: identitySchema.optional(),
  failureReason: opt,
  failureMessage: opt,
  createTime: date,
  expireTime: date,
  completeTime: date.optional(),
  cardMessageId: opt,
  authorizeUrl: opt,
  context: opt,
});

/** The session snapshot of a payload, or undefined when absent or malformed. */
export function payloadSession(payload: Readonly<Record<string, unknown>>): AuthSession | undefined {
  const parsed = sessionSchema.safeParse(payload.session);
  return parsed.success ? parsed.data : undefined;
}

/** The user identity of a payload: its own, else the session's. */
export function payloadIdentity(payload: Readonly<Record<string, unknown>>): UserIdentity | undefined {
  const own = identitySchema.safeParse(payload.identity);
  if (own.success) return own.data;
  const session = payload.session as { identity?: unknown } | undefined;
  const fromSession = identitySchema.safeParse(session?.identity);
  return fromSession.success ? fromSession.data : undefined;
}

const TYPE_TO_PB: Record<EventType, AuthEventType> = {
  SESSION_CREATED: AuthEventType.SESSION_CREATED,
  AUTHORIZED: AuthEventType.AUTHORIZED,
  DECLINED: AuthEventType.DECLINED,
  EXPIRED: AuthEventType.EXPIRED,
  FAILED: AuthEventType.FAILED,
  CANCELLED: AuthEventType.CANCELLED,
  TOKEN_REFRESHED: AuthEventType.TOKEN_REFRESHED,
  REAUTHORIZATION_REQUIRED: AuthEventType.REAUTHORIZATION_REQUIRED,
  AUTHORIZATION_REVOKED: AuthEventType.AUTHORIZATION_REVOKED,
};

const PB_TO_TYPE = new Map<AuthEventType, EventType>(
  Object.entries(TYPE_TO_PB).map(([k, v]) => [v, k as EventType]),
);

/** The stored types a request's `types` filter names (unknown values are dropped). */
export function typesFromPb(types: readonly AuthEventType[]): EventType[] {
  return types.flatMap((t) => {
    const type = PB_TO_TYPE.get(t);
    return type ? [type] : [];
  });
}

/** The cursor as the wire carries it: the id in decimal (opaque to callers). */
export function cursorToString(id: bigint): string {
  return id.toString();
}

/** Event ids are PostgreSQL bigints: no id this service issued is larger. */
const MAX_EVENT_ID = 2n ** 63n - 1n;

/** The id a cursor names, or undefined when it is not one this service issued. */
export function cursorFromString(cursor: string): bigint | undefined {
  // The length bound keeps BigInt's work small; the value bound is what decides (zeros may lead).
  if (!/^[0-9]{1,32}$/.test(cursor)) return undefined;
  const id = BigInt(cursor);
  return id <= MAX_EVENT_ID ? id : undefined;
}

/** The protobuf AuthEvent for a stored event. */
export function eventToPb(e: StoredAuthEvent): AuthEvent {
  const session = payloadSession(e.payload);
  const identity = payloadIdentity(e.payload);
  return create(AuthEventSchema, {
    eventId: cursorToString(e.id),
    type: TYPE_TO_PB[e.type],
    occurTime: timestampFromDate(e.occurTime),
    appId: e.appId,
    sessionId: e.sessionId ?? "",
    identity: identity ? identityToPb(identity) : undefined,
    session: session ? sessionToPb(session) : undefined,
    reason: e.reason ?? "",
  });
}

/** The stream message carrying one event. */
export function eventResponse(e: StoredAuthEvent): WatchAuthEventsResponse {
  return create(WatchAuthEventsResponseSchema, { kind: { case: "event", value: eventToPb(e) } });
}

/** The stream message carrying a bookmark at `id`. */
export function bookmarkResponse(id: bigint, now: Date): WatchAuthEventsResponse {
  return create(WatchAuthEventsResponseSchema, {
    kind: { case: "bookmark", value: { eventId: cursorToString(id), time: timestampFromDate(now) } },
  });
}
