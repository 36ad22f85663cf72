import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import { DomainError, DomainErrorCode } from "../domain/errors.js";
import { isSessionId } from "../domain/sessions/session.js";

/**
 * Request validation, in one place for every RPC on both transports: a table of required
 * fields per request message plus rules keyed by field name, applied by walking the
 * message descriptor. Handlers may assume a request that reaches them is well-formed.
 */
const REQUIRED: Record<string, readonly string[]> = {
  "lark.auth.v1.StartAuthorizationRequest": ["app_id", "user"],
  "lark.auth.v1.GetAuthSessionRequest": ["session_id"],
  "lark.auth.v1.CancelAuthSessionRequest": ["session_id"],
  "lark.auth.v1.ListAuthSessionsRequest": ["app_id"],
  "lark.auth.v1.CompleteAuthorizationRequest": ["code", "state"],
  "lark.auth.v1.GetUserAccessTokenRequest": ["app_id", "user"],
  "lark.auth.v1.RefreshUserAccessTokenRequest": ["app_id", "user"],
  "lark.auth.v1.RevokeUserAuthorizationRequest": ["app_id", "user"],
  "lark.auth.v1.GetUserInfoRequest": ["app_id", "user"],
  "lark.auth.v1.GetTenantAccessTokenRequest": ["app_id"],
};

/** Only where a card is delivered may a user be named by email. */
const EMAIL_ALLOWED = new Set(["lark.auth.v1.StartAuthorizationRequest"]);

const SCOPE = /^[A-Za-z0-9_.:-]{1,128}$/;
const PRINTABLE = /^[\x21-\x7e]+$/;

type Rule = (value: unknown) => string | undefined;

const str =
  (test: (s: string) => boolean, message: string): Rule =>
  (v) =>
    typeof v === "string" && v !== "" && !test(v) ? message : undefined;

const scopes: Rule = (v) => {
  const list = v as string[];
  if (list.length > 50) return "at most 50 scopes";
  const bad = list.find((s) => !SCOPE.test(s));
  return bad === undefined ? undefined : `"${bad.slice(0, 40)}" is not a scope name`;
};

const FIELD_RULES: Record<string, Rule> = {
  app_id: str((s) => /^cli_[0-9a-f]{16}$/i.test(s), "must look like cli_ followed by 16 hex digits"),
  session_id: str(isSessionId, "must be a UUID"),
  scopes,
  required_scopes: scopes,
  message: str((s) => s.length <= 1000, "at most 1000 characters"),
  context: str((s) => Buffer.byteLength(s, "utf8") <= 1024, "at most 1 KiB"),
  idempotency_key: str((s) => s.length <= 128 && PRINTABLE.test(s), "at most 128 printable ASCII characters"),
  privacy_policy_url: str((s) => /^https?:\/\/[^\s]+$/i.test(s) && URL.canParse(s), "must be an http(s) URL"),
  page_size: (v) => ((v as number) < 0 || (v as number) > 100 ? "must be between 0 and 100" : undefined),
  page_token: str((s) => s.length <= 512, "is not a token this service issued"),
  min_valid_seconds: (v) =>
    (v as number) < 0 || (v as number) > 7000 ? "must be between 0 and 7000" : undefined,
  code: str((s) => s.length <= 512 && PRINTABLE.test(s), "is not an authorization code"),
  state: str((s) => s.length <= 256 && PRINTABLE.test(s), "is not a state this service issued"),
  after_event_id: str((s) => /^[0-9]{1,19}$/.test(s), "is not an event id this service issued"),
};

const USER_RULES: Record<string, Rule> = {
  open_id: str((s) => /^ou_[A-Za-z0-9]{1,64}$/.test(s), "must look like ou_…"),
  union_id: str((s) => /^on_[A-Za-z0-9]{1,64}$/.test(s), "must look like on_…"),
  user_id: str((s) => /^[A-Za-z0-9_-]{1,64}$/.test(s), "must be 1-64 letters, digits, _ or -"),
  email: str((s) => s.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s), "must be an email address"),
};

function isEmpty(field: DescField, value: unknown): boolean {
  if (field.fieldKind === "list") return (value as unknown[]).length === 0;
  return value === undefined || value === "" || value === 0 || value === false;
}

function checkUser(
  msg: DescMessage,
  path: string,
  value: Message & { id?: { case?: string; value?: unknown } },
) {
  const id = value.id;
  if (!id?.case)
    return [
      `${path}: one of open_id, user_id, union_id${EMAIL_ALLOWED.has(msg.typeName) ? ", email" : ""} must be set`,
    ];
  const name = id.case.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  if (name === "email" && !EMAIL_ALLOWED.has(msg.typeName))
    return [`${path}.email: not accepted here; use open_id, user_id or union_id`];
  if (id.value === "") return [`${path}.${name}: must not be empty`];
  const problem = USER_RULES[name]?.(id.value);
  return problem ? [`${path}.${name}: ${problem}`] : [];
}

function checkEnum(field: DescField, value: unknown): string | undefined {
  const e =
    field.fieldKind === "enum"
      ? field.enum
      : field.fieldKind === "list" && field.listKind === "enum"
        ? field.enum
        : undefined;
  if (!e) return undefined;
  const values = field.fieldKind === "list" ? (value as number[]) : [value as number];
  const known = new Set(e.values.map((v) => v.number));
  const isList = field.fieldKind === "list";
  const bad = values.find((n) => !known.has(n) || (isList && n === 0));
  return bad === undefined ? undefined : `${bad} is not a valid ${e.name}`;
}

const requiredSets = new Map<string, ReadonlySet<string>>(
  Object.entries(REQUIRED).map(([k, v]) => [k, new Set(v)]),
);
const NONE: ReadonlySet<string> = new Set();

/** All problems with `request`, each naming its field; empty when it is valid. */
export function findViolations(schema: DescMessage, request: Message): { field: string; problem: string }[] {
  const out: { field: string; problem: string }[] = [];
  const required = requiredSets.get(schema.typeName) ?? NONE;
  const record = request as unknown as Record<string, unknown>;
  for (const field of schema.fields) {
    const value = record[field.localName];
    if (isEmpty(field, value)) {
      if (required.has(field.name)) out.push({ field: field.name, problem: "is required" });
      continue;
    }
    if (field.message?.typeName === "lark.auth.v1.UserRef") {
      for (const p of checkUser(schema, field.name, value as Message))
        out.push({ field: p.split(":")[0] ?? field.name, problem: p.slice(p.indexOf(":") + 2) });
      continue;
    }
    const problem = FIELD_RULES[field.name]?.(value) ?? checkEnum(field, value);
    if (problem) out.push({ field: field.name, problem });
  }
  return out;
}

/** Throws INVALID_ARGUMENT naming every bad field, or returns when `request` is valid. */
export function assertValid(schema: DescMessage, request: Message): void {
  const violations = findViolations(schema, request);
  const first = violations[0];
  if (!first) return;
  const message = violations.map((v) => `${v.field}: ${v.problem}`).join("; ");
  const list = violations.map((v) => ({ field: v.field, description: v.problem }));
  throw new DomainError(DomainErrorCode.INVALID_ARGUMENT, message, { field: first.field, violations: list });
}
