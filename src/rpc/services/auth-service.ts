import { create } from "@bufbuild/protobuf";
import {
  AuthService,
  type GetAuthSessionRequest,
  GetAuthSessionResponseSchema,
  type ListAuthSessionsRequest,
  ListAuthSessionsResponseSchema,
  type WatchAuthEventsRequest,
} from "../../../gen/lark/auth/v1/auth_service_pb.js";
import type { SessionStore } from "../../domain/ports.js";
import { getSession } from "../../domain/sessions/get-session.js";
import { listSessions } from "../../domain/sessions/list-sessions.js";
import type { PageTokens } from "../../domain/sessions/page-token.js";
import type { EventHub } from "../../events/hub.js";
import { watchAuthEvents } from "../../events/watch.js";
import { sessionToPb, statesFromPb, userRefFromPb } from "../../wire/codec.js";
import { type CallContext, callerOf } from "../context.js";
import type { ServiceImpl } from "../pipeline.js";
import { notImplemented } from "./unimplemented.js";

/** What the AuthService handlers need; built in app.ts. */
export interface AuthServiceDeps {
  readonly sessions: SessionStore;
  readonly pageTokens: PageTokens;
  readonly events: EventHub;
}

/** AuthService: decode, call the domain, encode. Nothing else lives here. */
export function createAuthServiceHandlers(deps: AuthServiceDeps): ServiceImpl<typeof AuthService> {
  return {
    ...notImplemented(AuthService, [
      "startAuthorization",
      "cancelAuthSession",
      "completeAuthorization",
      "watchAuthEvents",
    ]),
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
      return watchAuthEvents(deps.events, callerOf(ctx), req, ctx.signal);
    },
  };
}
