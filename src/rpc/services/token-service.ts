import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type GetTenantAccessTokenRequest,
  GetTenantAccessTokenResponseSchema,
  type GetUserAccessTokenRequest,
  type GetUserAccessTokenResponse,
  GetUserAccessTokenResponseSchema,
  type GetUserInfoRequest,
  GetUserInfoResponseSchema,
  type RefreshUserAccessTokenRequest,
  RefreshUserAccessTokenResponseSchema,
  type RevokeUserAuthorizationRequest,
  RevokeUserAuthorizationResponseSchema,
  type TokenService,
  type UserAccessToken,
  UserAccessTokenSchema,
} from "../../../gen/lark/auth/v1/token_service_pb.js";
import type { StoredGrant } from "../../domain/grants/grant.js";
import type { TokenUseCases } from "../../domain/grants/token-service.js";
import type { UserRef } from "../../domain/users.js";
import { identityToPb, userRefFromPb } from "../../wire/codec.js";
import { type CallContext, callerOf } from "../context.js";
import { type ServiceImpl, shareAnswer } from "../pipeline.js";

/** The longest a call waits on a refresh when the caller set no (or a longer) deadline. */
const MAX_WAIT_MS = 10_000;

/** What is left of the call's deadline, kept a little short so the answer still makes it back. */
function waitMsOf(ctx: CallContext): number {
  if (!ctx.deadline) return MAX_WAIT_MS;
  return Math.max(1, Math.min(MAX_WAIT_MS, ctx.deadline.getTime() - Date.now() - 50));
}

function tokenToPb(grant: StoredGrant): UserAccessToken {
  return create(UserAccessTokenSchema, {
    accessToken: grant.accessToken,
    expireTime: timestampFromDate(grant.accessExpireTime),
    scopes: [...grant.scopes],
    identity: identityToPb(grant.identity),
  });
}

/**
 * The answer for a grant, built once per grant object: the cache hands out the same immutable
 * StoredGrant until the grant changes, so a cached read reuses its answer (and its encoding, see
 * shareAnswer) instead of rebuilding both per call. Entries go with the grant objects.
 */
const answers = new WeakMap<StoredGrant, GetUserAccessTokenResponse>();

function answerFor(grant: StoredGrant): GetUserAccessTokenResponse {
  let answer = answers.get(grant);
  if (!answer) {
    answer = shareAnswer(create(GetUserAccessTokenResponseSchema, { token: tokenToPb(grant) }));
    answers.set(grant, answer);
  }
  return answer;
}

/** Validation guarantees the reference is set (and is not an email here). */
const userOf = (req: { user?: Parameters<typeof userRefFromPb>[0] }): UserRef =>
  userRefFromPb(req.user) as UserRef;

/** TokenService: decode, call the domain, encode. */
export function createTokenServiceHandlers(tokens: TokenUseCases): ServiceImpl<typeof TokenService> {
  return {
    async getUserAccessToken(req: GetUserAccessTokenRequest, ctx: CallContext) {
      const request = {
        appId: req.appId,
        user: userOf(req),
        requiredScopes: req.requiredScopes,
        minValidSeconds: req.minValidSeconds,
      };
      return answerFor(await tokens.getUserAccessToken(callerOf(ctx), request, waitMsOf(ctx)));
    },
    async refreshUserAccessToken(req: RefreshUserAccessTokenRequest, ctx: CallContext) {
      const request = { appId: req.appId, user: userOf(req) };
      const grant = await tokens.refreshUserAccessToken(callerOf(ctx), request, waitMsOf(ctx));
      return create(RefreshUserAccessTokenResponseSchema, { token: tokenToPb(grant) });
    },
    async revokeUserAuthorization(req: RevokeUserAuthorizationRequest, ctx: CallContext) {
      const revoked = await tokens.revokeUserAuthorization(callerOf(ctx), {
        appId: req.appId,
        user: userOf(req),
      });
      return create(RevokeUserAuthorizationResponseSchema, { revoked });
    },
    async getUserInfo(req: GetUserInfoRequest, ctx: CallContext) {
      const request = { appId: req.appId, user: userOf(req), refresh: req.refresh };
      const identity = await tokens.getUserInfo(callerOf(ctx), request, waitMsOf(ctx));
      return create(GetUserInfoResponseSchema, { identity: identityToPb(identity) });
    },
    async getTenantAccessToken(req: GetTenantAccessTokenRequest, ctx: CallContext) {
      const t = await tokens.getTenantAccessToken(callerOf(ctx), req.appId);
      return create(GetTenantAccessTokenResponseSchema, {
        tenantAccessToken: t.token,
        expireTime: timestampFromDate(t.expireTime),
      });
    },
  };
}
