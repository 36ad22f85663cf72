import { assertCan, type Caller } from "../callers.js";
import { DomainError, DomainErrorCode } from "../errors.js";
import type {
  AuthTx,
  AuthUnitOfWork,
  CardInputs,
  CardQueue,
  Clock,
  FlowCrypto,
  NewAuthEvent,
} from "../ports.js";
import { sameUserRef, type UserRef } from "../users.js";
import { covers, scopesToRequest, union } from "./scopes.js";
import type { AuthFlow, AuthSession } from "./session.js";
import { applyFinish, EXPIRED, isPastExpiry } from "./transitions.js";

/** An app as the flow sees it: which OAuth flow its users go through. */
export interface FlowApp {
  readonly appId: string;
  readonly flow: AuthFlow;
}

/** Settings of the start, from configuration. */
export interface StartPolicy {
  readonly sessionTtlMs: number;
  /** Sessions one (app, user) may start per rolling minute, across every replica. */
  readonly startsPerMinute: number;
  /**
   * The URL a redirect session's card button opens: our redirector (`${publicUrl}/oauth/authorize/<id>`),
   * which makes the OAuth state only when clicked, so no state is ever stored or returned in clear.
   */
  authorizeUrl(sessionId: string): string;
}

export interface StartDeps {
  readonly apps: { find(appId: string): FlowApp | undefined };
  readonly uow: AuthUnitOfWork;
  readonly crypto: FlowCrypto;
  readonly clock: Clock;
  readonly cards: CardQueue;
  readonly policy: StartPolicy;
}

export interface StartAuthorizationInput extends Partial<CardInputs> {
  readonly appId: string;
  readonly user: UserRef;
  readonly scopes: readonly string[];
  readonly force?: boolean;
  readonly idempotencyKey?: string;
  readonly context?: string;
}

/** The session the user will see a card for (absent when a grant already covers the scopes). */
export interface StartAuthorizationResult {
  readonly session?: AuthSession;
  readonly alreadyAuthorized: boolean;
}

interface Outcome {
  readonly result: StartAuthorizationResult;
  /** Sessions whose card must be sent or brought up to date once the transaction commits. */
  readonly cards: readonly string[];
}

const RATE_WINDOW_MS = 60_000;

/**
 * StartAuthorization: app → permission → in one transaction under the user's lock: idempotency hit →
 * grant covers → pending covers → rate limit → supersede → new session → events; then wake the cards.
 */
export async function startAuthorization(
  deps: StartDeps,
  caller: Caller,
  input: StartAuthorizationInput,
): Promise<StartAuthorizationResult> {
  const app = deps.apps.find(input.appId);
  if (!app) {
    throw new DomainError(DomainErrorCode.APP_NOT_FOUND, `app ${input.appId} is not configured`, {
      metadata: { app_id: input.appId },
    });
  }
  assertCan(caller, "auth:start", app.appId);
  const outcome = await deps.uow.run((tx) => decide(deps, tx, app, input));
  for (const id of outcome.cards) deps.cards.notify(app.appId, id);
  return outcome.result;
}

async function decide(
  deps: StartDeps,
  tx: AuthTx,
  app: FlowApp,
  input: StartAuthorizationInput,
): Promise<Outcome> {
  const now = deps.clock.now();
  // offline_access always; for a user named by email or user_id, the scope that lets us recognise them.
  const scopes = scopesToRequest(input.user, input.scopes);
  await tx.lockUser(app.appId, input.user);
  const earlier = input.idempotencyKey && (await tx.sessionByIdempotencyKey(app.appId, input.idempotencyKey));
  if (earlier) {
    // A retry gets its session back; the same key for another user is a caller's bug, and answering
    // with the earlier session would hand one user's session (context, authorize URL) to another's request.
    if (!sameUserRef(earlier.user, input.user)) throw idempotencyKeyReused(app.appId);
    return { result: { session: earlier, alreadyAuthorized: false }, cards: [] };
  }
  if (!input.force && (await grantCovers(tx, app.appId, input.user, scopes))) {
    return { result: { alreadyAuthorized: true }, cards: [] };
  }
  const events: NewAuthEvent[] = [];
  const cards: string[] = [];
  let pending = await tx.pendingFor(app.appId, input.user);
  if (pending && isPastExpiry(pending, now)) {
    // The sweeper has not reached it yet; a dead session must not be handed out as the live one.
    events.push((await applyFinish(tx, pending, EXPIRED, now)).event);
    cards.push(pending.id);
    pending = undefined;
  }
  if (pending && covers(pending.requestedScopes, scopes)) {
    for (const event of events) await tx.appendEvent(event);
    return { result: { session: pending, alreadyAuthorized: false }, cards };
  }
  await assertUnderRateLimit(deps, tx, app.appId, input.user, now);
  let wanted = scopes;
  if (pending) {
    const superseded = await applyFinish(tx, pending, SUPERSEDED, now);
    events.push(superseded.event);
    cards.push(pending.id);
    wanted = union(pending.requestedScopes, scopes);
  }
  const created = await createSession(deps, tx, app, input, wanted, now);
  events.push({ type: "SESSION_CREATED", appId: app.appId, sessionId: created.id, session: created });
  cards.push(created.id);
  // Events last (the event log takes its writer lock and final ids inside COMMIT, see auth-event.entity.ts).
  for (const event of events) await tx.appendEvent(event);
  return { result: { session: created, alreadyAuthorized: false }, cards };
}

function idempotencyKeyReused(appId: string): DomainError {
  return new DomainError(
    DomainErrorCode.IDEMPOTENCY_KEY_REUSED,
    "idempotency_key: already used for an authorization of another user; use a new key per request",
    { field: "idempotency_key", metadata: { app_id: appId } },
  );
}

const SUPERSEDED = {
  state: "CANCELLED",
  reason: "SUPERSEDED",
  message: "replaced by a newer request covering more scopes",
} as const;

async function grantCovers(tx: AuthTx, appId: string, user: UserRef, scopes: readonly string[]) {
  const held = await tx.grantScopes(appId, user);
  return held !== undefined && covers(held, scopes);
}

/** The per-(app, user) limit counts sessions in the database, so every replica shares it. */
async function assertUnderRateLimit(deps: StartDeps, tx: AuthTx, appId: string, user: UserRef, now: Date) {
  const since = new Date(now.getTime() - RATE_WINDOW_MS);
  const recent = await tx.recentStarts(appId, user, since);
  if (recent.count < deps.policy.startsPerMinute) return;
  const oldest = recent.oldest ?? now;
  const retryAfterMs = Math.max(1, oldest.getTime() + RATE_WINDOW_MS - now.getTime());
  throw new DomainError(
    DomainErrorCode.RATE_LIMITED,
    `too many authorization requests for this user; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
    { retryAfterMs, metadata: { app_id: appId, limit: String(deps.policy.startsPerMinute) } },
  );
}

async function createSession(
  deps: StartDeps,
  tx: AuthTx,
  app: FlowApp,
  input: StartAuthorizationInput,
  scopes: readonly string[],
  now: Date,
): Promise<AuthSession> {
  const base: AuthSession = {
    id: deps.crypto.uuid(),
    appId: app.appId,
    user: input.user,
    state: "PENDING",
    flow: app.flow,
    requestedScopes: scopes,
    createTime: now,
    expireTime: new Date(now.getTime() + deps.policy.sessionTtlMs),
    ...(input.context !== undefined && input.context !== "" && { context: input.context }),
    ...(input.idempotencyKey && { idempotencyKey: input.idempotencyKey }),
  };
  // Device sessions get their verification URL from the dispatcher, which calls Lark outside this
  // transaction; redirect sessions point at the redirector, which arms a state when clicked.
  const session =
    app.flow === "REDIRECT" ? { ...base, authorizeUrl: deps.policy.authorizeUrl(base.id) } : base;
  const card: CardInputs = {
    descriptionStyle: input.descriptionStyle ?? "DETAILED",
    ...(input.message && { message: input.message }),
    ...(input.privacyPolicyUrl && { privacyPolicyUrl: input.privacyPolicyUrl }),
  };
  await tx.insertSession(session, card, {});
  return session;
}
