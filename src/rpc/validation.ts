import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import {
  CancelAuthSessionRequestSchema,
  CompleteAuthorizationRequestSchema,
  GetAuthSessionRequestSchema,
  ListAuthSessionsRequestSchema,
  StartAuthorizationRequestSchema,
  WatchAuthEventsRequestSchema,
} from "../../gen/lark/auth/v1/auth_service_pb.js";
import {
  GetTenantAccessTokenRequestSchema,
  GetUserAccessTokenRequestSchema,
  GetUserInfoRequestSchema,
  RefreshUserAccessTokenRequestSchema,
  RevokeUserAuthorizationRequestSchema,
} from "../../gen/lark/auth/v1/token_service_pb.js";
import { APP_ID_PROBLEM, isAppId } from "../domain/apps.js";
import { DomainError, DomainErrorCode } from "../domain/errors.js";
import { MAX_PAGE_SIZE } from "../domain/sessions/list-sessions.js";
import { isPageTokenShaped, PAGE_TOKEN_PROBLEM } from "../domain/sessions/page-token.js";
import { isSessionId } from "../domain/sessions/session.js";
import {
  type FieldRule,
  list,
  number,
  oneOfEnum,
  optional,
  required,
  text,
  userRef,
  type Violation,
} from "./validation-checks.js";

/**
 * Request validation for every RPC on both transports, keyed by request message and field: each
 * request message lists a rule for every one of its fields (a missing or misspelt field fails to
 * compile), and each rule is stated in that field's comment in the .proto files. Handlers may
 * assume a request that reaches them is well-formed. Nothing a caller sent is echoed back.
 */

export type { Violation };

type FieldsOf<M> = Exclude<keyof M, "$typeName" | "$unknown">;
type Rules = Readonly<Record<string, FieldRule>>;

const PRINTABLE = /^[\x21-\x7e]+$/;
const printable = (max: number) => (s: string) => s.length <= max && PRINTABLE.test(s);

const appId = text(isAppId, APP_ID_PROBLEM);
const sessionId = text(isSessionId, "must be a UUID");
const scopes = list(
  50,
  text((s) => /^[A-Za-z0-9_.:-]{1,128}$/.test(s), "must be a scope name"),
);
const userNoEmail = userRef(false);

const registry = new Map<string, Rules>();

/** Registers the rules of one request message; `rules` must name every field of it. */
function rulesFor<M extends Message>(
  schema: GenMessage<M>,
  rules: { readonly [K in FieldsOf<M>]: FieldRule },
) {
  registry.set(schema.typeName, rules as Rules);
}

rulesFor(StartAuthorizationRequestSchema, {
  appId: required(appId),
  user: required(userRef(true)),
  scopes: optional(scopes),
  message: optional(text((s) => s.length <= 1000, "at most 1000 characters")),
  descriptionStyle: optional(oneOfEnum),
  privacyPolicyUrl: optional(
    text((s) => s.length <= 2048 && /^https?:\/\/\S+$/i.test(s) && URL.canParse(s), "must be an http(s) URL"),
  ),
  force: optional(),
  idempotencyKey: optional(text(printable(128), "at most 128 printable ASCII characters")),
  context: optional(text((s) => Buffer.byteLength(s, "utf8") <= 1024, "at most 1 KiB (UTF-8)")),
});
rulesFor(GetAuthSessionRequestSchema, { sessionId: required(sessionId) });
rulesFor(CancelAuthSessionRequestSchema, { sessionId: required(sessionId) });
rulesFor(ListAuthSessionsRequestSchema, {
  appId: required(appId),
  user: optional(userNoEmail),
  states: optional(list(6, oneOfEnum)),
  pageSize: optional(number(0, MAX_PAGE_SIZE)),
  pageToken: optional(text(isPageTokenShaped, PAGE_TOKEN_PROBLEM)),
});
rulesFor(CompleteAuthorizationRequestSchema, {
  code: required(text(printable(512), "at most 512 printable ASCII characters")),
  state: required(text(printable(256), "at most 256 printable ASCII characters")),
});
rulesFor(WatchAuthEventsRequestSchema, {
  appId: optional(appId),
  sessionId: optional(sessionId),
  user: optional(userNoEmail),
  types: optional(list(9, oneOfEnum)),
  // Event ids are opaque: only bounded, never parsed here.
  afterEventId: optional(text(printable(128), "at most 128 printable ASCII characters")),
  fromOldest: optional(),
});
rulesFor(GetUserAccessTokenRequestSchema, {
  appId: required(appId),
  user: required(userNoEmail),
  requiredScopes: optional(scopes),
  minValidSeconds: optional(number(0, 7000)),
});
rulesFor(RefreshUserAccessTokenRequestSchema, { appId: required(appId), user: required(userNoEmail) });
rulesFor(RevokeUserAuthorizationRequestSchema, { appId: required(appId), user: required(userNoEmail) });
rulesFor(GetUserInfoRequestSchema, {
  appId: required(appId),
  user: required(userNoEmail),
  refresh: optional(),
});
rulesFor(GetTenantAccessTokenRequestSchema, { appId: required(appId) });

/** True when `schema` has validation rules; every RPC's input must. */
export function hasRules(schema: DescMessage): boolean {
  return registry.has(schema.typeName);
}

function isEmpty(field: DescField, value: unknown): boolean {
  if (field.fieldKind === "list") return (value as unknown[]).length === 0;
  return value === undefined || value === "" || value === 0 || value === false;
}

/** Every problem with `request`, each naming its field path; empty when it is valid. */
export function findViolations(schema: DescMessage, request: Message): Violation[] {
  const rules = registry.get(schema.typeName);
  // A request type without rules is a wiring bug, not the caller's fault: never pass it unchecked.
  if (!rules) throw new Error(`no validation rules for ${schema.typeName}`);
  const record = request as unknown as Record<string, unknown>;
  const out: Violation[] = [];
  for (const field of schema.fields) {
    const rule = rules[field.localName];
    const value = record[field.localName];
    if (!rule) throw new Error(`no validation rule for ${schema.typeName}.${field.name}`);
    if (isEmpty(field, value)) {
      if (rule.required) out.push({ field: field.name, description: "is required" });
    } else if (rule.check) {
      out.push(...rule.check(value, field.name, field));
    }
  }
  return out;
}

/** Throws INVALID_ARGUMENT carrying every violation, or returns when `request` is valid. */
export function assertValid(schema: DescMessage, request: Message): void {
  const violations = findViolations(schema, request);
  const first = violations[0];
  if (!first) return;
  const message = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  throw new DomainError(DomainErrorCode.INVALID_ARGUMENT, message, { field: first.field, violations });
}
