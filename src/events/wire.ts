import { fromJson, type JsonObject, toJsonString } from "@bufbuild/protobuf";
import {
  AuthService,
  type WatchAuthEventsRequest,
  WatchAuthEventsRequestSchema,
  type WatchAuthEventsResponse,
  WatchAuthEventsResponseSchema,
} from "../../gen/lark/auth/v1/auth_service_pb.js";
import { DomainError, DomainErrorCode } from "../domain/errors.js";

/** The watch stream outside protobuf: what the events WebSocket (http/) needs of gen/. */
export const WATCH_METHOD = AuthService.method.watchAuthEvents;
export type WatchResponse = WatchAuthEventsResponse;

const USER_PARAMS = { open_id: "openId", user_id: "userId", union_id: "unionId" } as const;
const PARAMS = new Set([
  "app_id",
  "session_id",
  "types",
  "after_event_id",
  "from_oldest",
  ...Object.keys(USER_PARAMS),
]);
const TYPE_PREFIX = "AUTH_EVENT_TYPE_";

function badQuery(message: string): DomainError {
  return new DomainError(DomainErrorCode.INVALID_ARGUMENT, message);
}

/** `true` / `1` or `false` / `0`; anything else is refused rather than read as false. */
function booleanParam(name: string, value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw badQuery(`${name} must be true or false`);
}

/**
 * The request from a query string, by the protobuf JSON names: `app_id`, `session_id`, one of
 * `open_id` / `user_id` / `union_id`, `types` (repeated or comma-separated, with or without the
 * `AUTH_EVENT_TYPE_` prefix), `after_event_id`, `from_oldest=true`. Validation then runs as for RPCs;
 * an unknown parameter is refused, so a misspelt filter never silently widens the stream.
 */
export function requestFromQuery(params: URLSearchParams): WatchAuthEventsRequest {
  const json: JsonObject = {};
  const types: string[] = [];
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (!PARAMS.has(name)) throw badQuery(`unknown query parameter ${name.slice(0, 64)}`);
    // Only types may repeat; a second user or cursor would otherwise silently replace the first.
    const key = name in USER_PARAMS ? "user" : name;
    if (key !== "types" && seen.has(key))
      throw badQuery(key === "user" ? "give one of open_id, user_id, union_id, once" : `${name} given twice`);
    seen.add(key);
    if (name in USER_PARAMS) json.user = { [USER_PARAMS[name as keyof typeof USER_PARAMS]]: value };
    else if (name === "types") {
      for (const t of value.split(",").filter(Boolean))
        types.push(t.startsWith(TYPE_PREFIX) ? t : TYPE_PREFIX + t);
    } else if (name === "from_oldest") json.fromOldest = booleanParam(name, value);
    else json[name] = value;
  }
  if (types.length > 0) json.types = types;
  try {
    return fromJson(WatchAuthEventsRequestSchema, json);
  } catch {
    throw badQuery("a query parameter has a value of the wrong kind (types: AUTHORIZED,DECLINED,...)");
  }
}

/** JSON text per message object: the hub shares one message among all watchers, so encode it once. */
const jsonCache = new WeakMap<WatchAuthEventsResponse, string>();

/** The protobuf JSON mapping of a stream message. */
export function jsonOf(msg: WatchAuthEventsResponse): string {
  let text = jsonCache.get(msg);
  if (text === undefined) {
    text = toJsonString(WatchAuthEventsResponseSchema, msg);
    jsonCache.set(msg, text);
  }
  return text;
}
