import type { WatchAuthEventsResponse } from "../../gen/lark/auth/v1/auth_service_pb.js";
import type { StoredAuthEvent } from "../domain/events.js";
import type { AuthEventType } from "../domain/ports.js";
import type { UserIdentity, UserRef } from "../domain/users.js";
import { eventResponse, payloadIdentity } from "./codec.js";

/**
 * One event on its way to many watchers. The stream message is built once, on first need, and
 * shared: with ten thousand watchers, encoding per watcher would dominate the fan-out.
 */
export class HubEvent {
  #response?: WatchAuthEventsResponse;
  #identity?: UserIdentity | null;

  constructor(readonly row: StoredAuthEvent) {}

  get id(): bigint {
    return this.row.id;
  }

  get response(): WatchAuthEventsResponse {
    this.#response ??= eventResponse(this.row);
    return this.#response;
  }

  /** The identity the payload carries, parsed once (only user_id / union_id filters need it). */
  get identity(): UserIdentity | undefined {
    if (this.#identity === undefined) this.#identity = payloadIdentity(this.row.payload) ?? null;
    return this.#identity ?? undefined;
  }
}

/** What a watcher asked to see, and what it may see. All given filters must match. */
export interface WatchFilter {
  readonly appId?: string;
  readonly sessionId?: string;
  /** open_id, user_id or union_id (never email: validation refuses it for watches). */
  readonly user?: UserRef;
  readonly types?: ReadonlySet<AuthEventType>;
  /** The per-event permission check, when the watch names no app (the interceptor checked one that it names). */
  readonly allowed?: (appId: string) => boolean;
}

function userMatches(user: UserRef, e: HubEvent): boolean {
  if (user.kind === "open_id") return (e.row.openId ?? e.identity?.openId) === user.value;
  const id = e.identity;
  if (user.kind === "user_id") return id?.userId === user.value;
  if (user.kind === "union_id") return id?.unionId === user.value;
  return false;
}

/** True when `e` passes every filter of `f`, permission last (the cheapest checks first). */
export function matches(f: WatchFilter, e: HubEvent): boolean {
  const row = e.row;
  if (f.appId !== undefined && row.appId !== f.appId) return false;
  if (f.sessionId !== undefined && row.sessionId !== f.sessionId) return false;
  if (f.types !== undefined && !f.types.has(row.type)) return false;
  if (f.user !== undefined && !userMatches(f.user, e)) return false;
  return f.allowed === undefined || f.allowed(row.appId);
}
