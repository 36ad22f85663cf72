import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AuthSessionSchema,
  DescriptionStyle as PbDescriptionStyle,
  AuthFlow as PbFlow,
  type UserIdentity as PbIdentity,
  type AuthSession as PbSession,
  AuthSessionState as PbState,
  type UserRef as PbUserRef,
  UserIdentitySchema,
  UserRefSchema,
} from "../../gen/lark/auth/v1/types_pb.js";
import type { AuthSession, SessionState } from "../domain/sessions/session.js";
import type { UserIdentity, UserIdKind, UserRef } from "../domain/users.js";

/** The one place where the wire shape of domain values lives (both directions). */

const STATE_TO_PB: Record<SessionState, PbState> = {
  PENDING: PbState.PENDING,
  AUTHORIZED: PbState.AUTHORIZED,
  DECLINED: PbState.DECLINED,
  EXPIRED: PbState.EXPIRED,
  FAILED: PbState.FAILED,
  CANCELLED: PbState.CANCELLED,
};

const PB_TO_STATE = new Map<PbState, SessionState>(
  Object.entries(STATE_TO_PB).map(([k, v]) => [v, k as SessionState]),
);

/** Keyed by the oneof's cases, so a new case in the proto fails the type check here. */
const CASE_TO_KIND: Record<NonNullable<PbUserRef["id"]["case"]>, UserIdKind> = {
  openId: "open_id",
  userId: "user_id",
  unionId: "union_id",
  email: "email",
};

const KIND_TO_CASE = { open_id: "openId", user_id: "userId", union_id: "unionId", email: "email" } as const;

/** Decodes a validated UserRef (validation guarantees exactly one id is set). */
export function userRefFromPb(ref: PbUserRef | undefined): UserRef | undefined {
  if (!ref?.id.case) return undefined;
  return { kind: CASE_TO_KIND[ref.id.case], value: ref.id.value };
}

export function userRefToPb(ref: UserRef): PbUserRef {
  return create(UserRefSchema, { id: { case: KIND_TO_CASE[ref.kind], value: ref.value } });
}

/** Unset means DETAILED (the proto says so). */
export function descriptionStyleFromPb(style: PbDescriptionStyle): "DETAILED" | "CONCISE" {
  return style === PbDescriptionStyle.CONCISE ? "CONCISE" : "DETAILED";
}

export function statesFromPb(states: readonly PbState[]): SessionState[] {
  return states.flatMap((s) => {
    const state = PB_TO_STATE.get(s);
    return state ? [state] : [];
  });
}

/** The one wire shape of a user's identity, shared by sessions, events and GetUserInfo. */
export function identityToPb(id: UserIdentity): PbIdentity {
  return create(UserIdentitySchema, {
    openId: id.openId,
    userId: id.userId ?? "",
    unionId: id.unionId ?? "",
    tenantKey: id.tenantKey ?? "",
    name: id.name ?? "",
    enName: id.enName ?? "",
    email: id.email ?? "",
    mobile: id.mobile ?? "",
    avatarUrl: id.avatarUrl ?? "",
  });
}

export function sessionToPb(s: AuthSession): PbSession {
  const id = s.identity;
  return create(AuthSessionSchema, {
    sessionId: s.id,
    appId: s.appId,
    user: userRefToPb(s.user),
    identity: id ? identityToPb(id) : undefined,
    state: STATE_TO_PB[s.state],
    flow: s.flow === "REDIRECT" ? PbFlow.REDIRECT : PbFlow.DEVICE,
    requestedScopes: [...s.requestedScopes],
    failureReason: s.failureReason ?? "",
    failureMessage: s.failureMessage ?? "",
    createTime: timestampFromDate(s.createTime),
    expireTime: timestampFromDate(s.expireTime),
    completeTime: s.completeTime ? timestampFromDate(s.completeTime) : undefined,
    cardMessageId: s.cardMessageId ?? "",
    authorizeUrl: s.authorizeUrl ?? "",
    context: s.context ?? "",
  });
}
