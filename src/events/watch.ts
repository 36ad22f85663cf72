import type {
  WatchAuthEventsRequest,
  WatchAuthEventsResponse,
} from "../../gen/lark/auth/v1/auth_service_pb.js";
import type { Caller } from "../domain/callers.js";
import { invalidArgument } from "../domain/errors.js";
import { userRefFromPb } from "../wire/codec.js";
import { cursorFromString, typesFromPb } from "./codec.js";
import type { EventHub, WatchObserver, WatchStart } from "./hub.js";
import type { WatchFilter } from "./hub-event.js";

/** The filters of a (validated) request; with no app named, each event's app is checked against the caller. */
export function filterOf(caller: Caller, req: WatchAuthEventsRequest): WatchFilter {
  const types = typesFromPb(req.types);
  return {
    ...(req.appId !== "" && { appId: req.appId }),
    ...(req.sessionId !== "" && { sessionId: req.sessionId }),
    ...(req.user?.id.case && { user: userRefFromPb(req.user) }),
    ...(types.length > 0 && { types: new Set(types) }),
    // The interceptor checked a named app before the handler ran; otherwise every event is checked.
    ...(req.appId === "" && { allowed: (appId: string) => caller.can("auth:watch", appId) }),
  };
}

/**
 * Where the request starts: after its cursor; at the oldest retained event (from_oldest, or a
 * session filter, which replays that session's history so a waiter sees a terminal event that
 * came before it subscribed); otherwise at the next event.
 */
export function startOf(req: WatchAuthEventsRequest): WatchStart {
  if (req.afterEventId !== "") {
    const id = cursorFromString(req.afterEventId);
    if (id === undefined) throw invalidArgument("after_event_id", "not an event id issued by this service");
    return { kind: "after", id };
  }
  if (req.fromOldest || req.sessionId !== "") return { kind: "oldest" };
  return { kind: "new" };
}

/** WatchAuthEvents: a validated request and its caller to the stream of what it may see. */
export function watchAuthEvents(
  hub: EventHub,
  caller: Caller,
  req: WatchAuthEventsRequest,
  signal: AbortSignal,
  observe?: WatchObserver,
): AsyncIterable<WatchAuthEventsResponse> {
  return hub.watch(filterOf(caller, req), startOf(req), signal, observe);
}
