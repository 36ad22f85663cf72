import { DomainError, DomainErrorCode } from "../errors.js";
import type { AuthUnitOfWork, CardQueue, Clock, FlowLogger, LarkGateway, LarkUserTokens } from "../ports.js";
import { identityMatches, type UserIdentity } from "../users.js";
import { type AuthSession, isPending } from "./session.js";
import { commitFinish, type Finish } from "./transitions.js";

export interface FinishDeps {
  readonly uow: AuthUnitOfWork;
  readonly lark: Pick<LarkGateway, "getUserInfo">;
  readonly clock: Clock;
  readonly cards: CardQueue;
  readonly log: FlowLogger;
}

/**
 * The common end of both flows, once Lark answered tokens: refresh token present → who consented →
 * same user as asked → in one transaction: still pending → grant + AUTHORIZED + event; then the card.
 * Every failure here ends the session FAILED: the code (or device code) is spent, so the user
 * cannot succeed with it again.
 */
export async function finishWithTokens(
  deps: FinishDeps,
  session: AuthSession,
  tokens: LarkUserTokens,
): Promise<AuthSession> {
  if (!tokens.refreshToken) {
    deps.log.error(
      { app_id: session.appId, session_id: session.id },
      "Lark issued no refresh token: enable offline_access for this app in the developer console",
    );
    return endPending(deps, session.id, OFFLINE_ACCESS_MISSING);
  }
  let identity: UserIdentity;
  try {
    identity = await deps.lark.getUserInfo(session.appId, tokens.accessToken);
  } catch {
    return endPending(deps, session.id, USER_INFO_FAILED);
  }
  // Someone else may have opened the card's link: their consent must not become this user's grant.
  if (!identityMatches(session.user, identity)) return endPending(deps, session.id, USER_MISMATCH);
  return authorize(deps, session.id, identity, { ...tokens, refreshToken: tokens.refreshToken });
}

async function authorize(
  deps: FinishDeps,
  sessionId: string,
  identity: UserIdentity,
  tokens: LarkUserTokens & { refreshToken: string },
): Promise<AuthSession> {
  const now = deps.clock.now();
  const done = await deps.uow.run(async (tx) => {
    const current = await tx.lockSession(sessionId);
    assertStillPending(current, sessionId);
    const granted = tokens.scopes;
    await tx.upsertGrant({
      appId: current.appId,
      identity,
      scopes: granted.length > 0 ? granted : current.requestedScopes,
      accessToken: tokens.accessToken,
      accessExpireTime: new Date(now.getTime() + tokens.expiresIn * 1000),
      refreshToken: tokens.refreshToken,
      ...(tokens.refreshExpiresIn !== undefined && {
        refreshExpireTime: new Date(now.getTime() + tokens.refreshExpiresIn * 1000),
      }),
    });
    return commitFinish(tx, current, { state: "AUTHORIZED", identity }, now);
  });
  deps.cards.notify(done.appId, done.id);
  return done;
}

/**
 * Ends a still-pending session (FAILED, or DECLINED for a device denial; one transaction, with its event) and wakes its card. A session
 * that ended meanwhile (cancelled, expired) keeps its state: the first ending wins.
 */
export async function endPending(
  deps: Pick<FinishDeps, "uow" | "clock" | "cards">,
  sessionId: string,
  failure: Finish,
): Promise<AuthSession> {
  const now = deps.clock.now();
  const done = await deps.uow.run(async (tx) => {
    const current = await tx.lockSession(sessionId);
    if (!current) throw notFound(sessionId);
    if (!isPending(current)) return { session: current, changed: false };
    return { session: await commitFinish(tx, current, failure, now), changed: true };
  });
  if (done.changed) deps.cards.notify(done.session.appId, done.session.id);
  return done.session;
}

function assertStillPending(session: AuthSession | undefined, id: string): asserts session is AuthSession {
  if (!session) throw notFound(id);
  if (!isPending(session)) {
    throw new DomainError(
      DomainErrorCode.SESSION_NOT_PENDING,
      `auth session ${id} ended (${session.state}) before the authorization completed`,
      { metadata: { session_id: id, state: session.state } },
    );
  }
}

export function notFound(id: string): DomainError {
  return new DomainError(DomainErrorCode.SESSION_NOT_FOUND, `auth session ${id} not found`, {
    metadata: { session_id: id },
  });
}

const OFFLINE_ACCESS_MISSING: Finish = {
  state: "FAILED",
  reason: "OFFLINE_ACCESS_MISSING",
  message: "Lark issued no refresh token; the app must be allowed offline_access",
};
const USER_INFO_FAILED: Finish = {
  state: "FAILED",
  reason: "USER_INFO_FAILED",
  message: "Lark did not say who authorized; start a new authorization",
};
const USER_MISMATCH: Finish = {
  state: "FAILED",
  reason: "USER_MISMATCH",
  message: "the person who authorized is not the user this request was for",
};
