import { create } from "@bufbuild/protobuf";
import {
  type AuthService,
  type CancelAuthSessionRequest,
  CancelAuthSessionResponseSchema,
  type CompleteAuthorizationRequest,
  CompleteAuthorizationResponseSchema,
  type GetAuthSessionRequest,
  GetAuthSessionResponseSchema,
  type ListAuthSessionsRequest,
  ListAuthSessionsResponseSchema,
  type StartAuthorizationRequest,
  StartAuthorizationResponseSchema,
  type WatchAuthEventsRequest,
} from "../../../gen/lark/auth/v1/auth_service_pb.js";
import type { Caller } from "../../domain/callers.js";
import type { SessionStore } from "../../domain/ports.js";
import { getSession } from "../../domain/sessions/get-session.js";
import { listSessions } from "../../domain/sessions/list-sessions.js";
import type { PageTokens } from "../../domain/sessions/page-token.js";
import type { AuthSession } from "../../domain/sessions/session.js";
import type {
  StartAuthorizationInput,
  StartAuthorizationResult,
} from "../../domain/sessions/start-authorization.js";
import type { EventHub, WatchObserver } from "../../events/hub.js";
import { watchAuthEvents } from "../../events/watch.js";
import type { EventMetrics } from "../../telemetry/event-metrics.js";
import { descriptionStyleFromPb, sessionToPb, statesFromPb, userRefFromPb } from "../../wire/codec.js";
import { type CallContext, callerOf } from "../context.js";
import { errorReason } from "../errors.js";
import type { ServiceImpl } from "../pipeline.js";

/** What the AuthService handlers need; built in app.ts. */
export interface AuthServiceDeps {
  readonly sessions: SessionStore;
  readonly pageTokens: PageTokens;
  /** The authorization flow's use cases (src/flow/). */
  readonly flow: AuthFlowCalls;
  readonly events: EventHub;
  /** Open and ended watchers by transport (lark_auth_event_watchers*). */
  readonly eventMetrics?: Pick<EventMetrics, "watcherOpened">;
}

/** The flow's use cases as the handlers call them. */
export interface AuthFlowCalls {
  start(caller: Caller, input: StartAuthorizationInput): Promise<StartAuthorizationResult>;
  cancel(caller: Caller, sessionId: string): Promise<AuthSession>;
  complete(caller: Caller, input: { readonly code: string; readonly state: string }): Promise<AuthSession>;
}

function startInput(req: StartAuthorizationRequest): StartAuthorizationInput {
  // Validation guarantees the user is set; empty optional strings mean "not given".
  return {
    appId: req.appId,
    user: userRefFromPb(req.user) as StartAuthorizationInput["user"],
    scopes: req.scopes,
    descriptionStyle: descriptionStyleFromPb(req.descriptionStyle),
    force: req.force,
    ...(req.message && { message: req.message }),
    ...(req.privacyPolicyUrl && { privacyPolicyUrl: req.privacyPolicyUrl }),
    ...(req.idempotencyKey && { idempotencyKey: req.idempotencyKey }),
    ...(req.context && { context: req.context }),
  };
}

/** AuthService: decode, call the domain, encode. Nothing else lives here. */
/**
 * Counts the watch while it is open, then why it ended: the error it failed with, else what
 * aborted its call (CANCELLED, SHUTTING_DOWN, DEADLINE_EXCEEDED), else OK; and tells the
 * transport the moment it ended (CallContext.streamEnded).
 */
function observeWatch(deps: AuthServiceDeps, ctx: CallContext): WatchObserver {
  const metrics = deps.eventMetrics;
  return () => {
    const ended = metrics?.watcherOpened(ctx.transport ?? "grpc");
    return (err) => {
      ctx.streamEnded?.(err);
      if (!ended) return;
      if (err) ended(errorReason(err));
      else ended(ctx.signal.aborted ? errorReason(ctx.signal.reason) : "OK");
    };
  };
}

export function createAuthServiceHandlers(deps: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  const { flow } = deps;
  return {
    async startAuthorization(req: StartAuthorizationRequest, ctx: CallContext) {
      const result = await flow.start(callerOf(ctx), startInput(req));
      return create(StartAuthorizationResponseSchema, {
        session: result.session && sessionToPb(result.session),
        alreadyAuthorized: result.alreadyAuthorized,
      });
    },
    async cancelAuthSession(req: CancelAuthSessionRequest, ctx: CallContext) {
      const session = await flow.cancel(callerOf(ctx), req.sessionId);
      return create(CancelAuthSessionResponseSchema, { session: sessionToPb(session) });
    },
    async completeAuthorization(req: CompleteAuthorizationRequest, ctx: CallContext) {
      const session = await flow.complete(callerOf(ctx), { code: req.code, state: req.state });
      return create(CompleteAuthorizationResponseSchema, { session: sessionToPb(session) });
    },
    async getAuthSession(req: GetAuthSessionRequest, ctx: CallContext) {
      const session = await getSession(deps, callerOf(ctx), req.sessionId);
      return create(GetAuthSessionResponseSchema, { session: sessionToPb(session) });
    },
    async listAuthSessions(req: ListAuthSessionsRequest, ctx: CallContext) {
      const query = { appId: req.appId, user: userRefFromPb(req.user), states: statesFromPb(req.states) };
      const page = { size: req.pageSize, token: req.pageToken };
      const result = await listSessions(deps, callerOf(ctx), query, page);
      return create(ListAuthSessionsResponseSchema, {
        sessions: result.sessions.map(sessionToPb),
        nextPageToken: result.nextPageToken,
      });
    },
    watchAuthEvents(req: WatchAuthEventsRequest, ctx: CallContext) {
      return watchAuthEvents(deps.events, callerOf(ctx), req, ctx.signal, observeWatch(deps, ctx));
    },
  };
}
