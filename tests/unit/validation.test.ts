import { create, type DescMessage, type Message, type MessageInitShape } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { describe, expect, it } from "vitest";
import {
  AuthService,
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
  TokenService,
} from "../../gen/lark/auth/v1/token_service_pb.js";
import { AuthEventType, AuthSessionState, DescriptionStyle } from "../../gen/lark/auth/v1/types_pb.js";
import { DomainError } from "../../src/domain/errors.js";
import { assertValid, findViolations, hasRules } from "../../src/rpc/validation.js";

const APP = "cli_0123456789abcdef";
const OPEN_ID = { id: { case: "openId" as const, value: "ou_abc123" } };
const UUID = "00000000-0000-4000-8000-000000000000";

function violations<M extends Message>(schema: GenMessage<M>, init: MessageInitShape<GenMessage<M>>) {
  return findViolations(schema as DescMessage, create(schema, init));
}

/** The one violation `init` has, asserting there is exactly one. */
function only<M extends Message>(schema: GenMessage<M>, init: MessageInitShape<GenMessage<M>>) {
  const list = violations(schema, init);
  expect(list).toHaveLength(1);
  return list[0];
}

describe("request validation, keyed by message and field", () => {
  it("has rules for the input of every RPC", () => {
    for (const method of [...AuthService.methods, ...TokenService.methods])
      expect(hasRules(method.input)).toBe(true);
  });

  it("StartAuthorization: app_id and user required; email accepted; every optional field bounded", () => {
    const S = StartAuthorizationRequestSchema;
    expect(violations(S, {}).map((v) => v.field)).toEqual(["app_id", "user"]);
    expect(violations(S, { appId: APP, user: { id: { case: "email", value: "a@b.co" } } })).toEqual([]);
    const ok = { appId: APP, user: OPEN_ID };
    expect(only(S, { ...ok, appId: "cli_bad" })).toEqual({
      field: "app_id",
      description: "must look like cli_ followed by 16 hex digits",
    });
    expect(only(S, { ...ok, scopes: ["ok:scope", "bad scope"] })?.field).toBe("scopes[1]");
    expect(only(S, { ...ok, scopes: Array.from({ length: 51 }, () => "s") })?.description).toBe(
      "at most 50 entries",
    );
    expect(only(S, { ...ok, message: "m".repeat(1001) })?.field).toBe("message");
    expect(violations(S, { ...ok, message: "m".repeat(1000) })).toEqual([]);
    expect(only(S, { ...ok, descriptionStyle: 99 as DescriptionStyle })?.field).toBe("description_style");
    expect(violations(S, { ...ok, descriptionStyle: DescriptionStyle.CONCISE })).toEqual([]);
    expect(only(S, { ...ok, privacyPolicyUrl: "ftp://x.example/p" })?.field).toBe("privacy_policy_url");
    expect(violations(S, { ...ok, privacyPolicyUrl: "https://x.example/p" })).toEqual([]);
    expect(only(S, { ...ok, idempotencyKey: "has space" })?.field).toBe("idempotency_key");
    expect(only(S, { ...ok, idempotencyKey: "k".repeat(129) })?.field).toBe("idempotency_key");
    expect(only(S, { ...ok, context: "é".repeat(513) })?.description).toBe("at most 1 KiB (UTF-8)");
    expect(violations(S, { ...ok, context: "x".repeat(1024), force: true })).toEqual([]);
  });

  it("user references: exactly one well-formed id, email only where a card is delivered", () => {
    const T = GetUserAccessTokenRequestSchema;
    expect(only(T, { appId: APP, user: {} })).toEqual({
      field: "user",
      description: "must set one of open_id, user_id or union_id",
    });
    expect(only(T, { appId: APP, user: { id: { case: "email", value: "a@b.co" } } })?.field).toBe(
      "user.email",
    );
    expect(only(T, { appId: APP, user: { id: { case: "openId", value: "on_x" } } })?.field).toBe(
      "user.open_id",
    );
    expect(only(T, { appId: APP, user: { id: { case: "unionId", value: "ou_x" } } })?.field).toBe(
      "user.union_id",
    );
    expect(only(T, { appId: APP, user: { id: { case: "userId", value: "a b" } } })?.field).toBe(
      "user.user_id",
    );
    expect(only(T, { appId: APP, user: { id: { case: "userId", value: "" } } })?.description).toBe(
      "must not be empty",
    );
    const S = StartAuthorizationRequestSchema;
    expect(only(S, { appId: APP, user: { id: { case: "email", value: "not-an-email" } } })?.field).toBe(
      "user.email",
    );
    expect(
      only(S, { appId: APP, user: { id: { case: "email", value: `${"a".repeat(250)}@b.co` } } })?.field,
    ).toBe("user.email");
  });

  it("GetUserAccessToken: required_scopes bounded, min_valid_seconds 0-7000", () => {
    const T = GetUserAccessTokenRequestSchema;
    const ok = { appId: APP, user: OPEN_ID };
    expect(only(T, { ...ok, requiredScopes: ["a b"] })?.field).toBe("required_scopes[0]");
    expect(only(T, { ...ok, minValidSeconds: 7001 })?.description).toBe("must be between 0 and 7000");
    expect(only(T, { ...ok, minValidSeconds: -1 })?.field).toBe("min_valid_seconds");
    expect(violations(T, { ...ok, minValidSeconds: 7000 })).toEqual([]);
  });

  it("ListAuthSessions: page_size 0-100, page_token short base64url, states known and not UNSPECIFIED", () => {
    const L = ListAuthSessionsRequestSchema;
    expect(only(L, {})?.field).toBe("app_id");
    expect(only(L, { appId: APP, pageSize: 101 })).toEqual({
      field: "page_size",
      description: "must be between 0 and 100",
    });
    expect(only(L, { appId: APP, pageSize: -1 })?.field).toBe("page_size");
    expect(violations(L, { appId: APP, pageSize: 100 })).toEqual([]);
    expect(only(L, { appId: APP, pageToken: "x".repeat(129) })?.field).toBe("page_token");
    expect(only(L, { appId: APP, pageToken: "not/base64url" })?.field).toBe("page_token");
    expect(only(L, { appId: APP, states: [AuthSessionState.PENDING, 0] })?.field).toBe("states[1]");
    expect(only(L, { appId: APP, states: [42 as AuthSessionState] })?.field).toBe("states[0]");
    expect(only(L, { appId: APP, user: { id: { case: "email", value: "a@b.co" } } })?.field).toBe(
      "user.email",
    );
  });

  it("session ids are UUIDs; CompleteAuthorization's code and state are bounded printable ASCII", () => {
    expect(only(GetAuthSessionRequestSchema, {})?.description).toBe("is required");
    expect(only(GetAuthSessionRequestSchema, { sessionId: "nope" })?.description).toBe("must be a UUID");
    expect(violations(GetAuthSessionRequestSchema, { sessionId: UUID })).toEqual([]);
    expect(only(CancelAuthSessionRequestSchema, { sessionId: `${UUID}0` })?.field).toBe("session_id");
    const C = CompleteAuthorizationRequestSchema;
    expect(violations(C, {}).map((v) => v.field)).toEqual(["code", "state"]);
    expect(only(C, { code: "c".repeat(513), state: "s" })?.field).toBe("code");
    expect(only(C, { code: "c", state: "s t" })?.field).toBe("state");
    expect(only(C, { code: "c", state: "s".repeat(257) })?.field).toBe("state");
  });

  it("WatchAuthEvents: every filter optional; after_event_id is opaque (bounded printable, not digits)", () => {
    const W = WatchAuthEventsRequestSchema;
    expect(violations(W, {})).toEqual([]);
    expect(violations(W, { appId: APP, sessionId: UUID, user: OPEN_ID })).toEqual([]);
    expect(violations(W, { afterEventId: "evt_01HXYZ-ab.9", fromOldest: true })).toEqual([]);
    expect(only(W, { afterEventId: "e".repeat(129) })?.field).toBe("after_event_id");
    expect(only(W, { afterEventId: "has space" })?.field).toBe("after_event_id");
    expect(only(W, { appId: "x" })?.field).toBe("app_id");
    expect(only(W, { sessionId: "x" })?.field).toBe("session_id");
    expect(only(W, { types: [AuthEventType.AUTHORIZED, 0] })?.field).toBe("types[1]");
  });

  it("rules belong to their message: a field name shared across messages is not one rule", () => {
    // `state` is a bounded string in CompleteAuthorization; ListAuthSessions' `states` is an enum list.
    expect(
      violations(CompleteAuthorizationRequestSchema, { code: "c", state: "anything-printable" }),
    ).toEqual([]);
    expect(only(GetTenantAccessTokenRequestSchema, {})?.field).toBe("app_id");
  });

  it("throws INVALID_ARGUMENT with structured violations and echoes no value", () => {
    const huge = "x".repeat(100_000);
    let thrown: unknown;
    try {
      assertValid(
        ListAuthSessionsRequestSchema,
        create(ListAuthSessionsRequestSchema, { appId: huge, pageToken: huge }),
      );
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    const err = thrown as DomainError;
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.details.violations?.map((v) => v.field)).toEqual(["app_id", "page_token"]);
    expect(err.message).not.toContain("xxxx");
    expect(err.message.length).toBeLessThan(200);
  });
});
