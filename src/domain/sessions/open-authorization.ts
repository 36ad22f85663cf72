import { invalidArgument } from "../errors.js";
import type { AuthUnitOfWork, CardQueue, Clock, FlowCrypto, LarkGateway } from "../ports.js";
import { notFound } from "./finish-with-tokens.js";
import { type AuthSession, isPending } from "./session.js";
import { commitFinish, EXPIRED, isPastExpiry } from "./transitions.js";

export interface OpenAuthorizationDeps {
  readonly uow: AuthUnitOfWork;
  readonly lark: Pick<LarkGateway, "buildAuthorizeUrl">;
  readonly crypto: FlowCrypto;
  readonly clock: Clock;
  readonly cards: CardQueue;
  /** `${publicUrl}/oauth/callback`: where Lark sends the browser back. */
  readonly redirectUri: string;
}

/** Where the card's Authorize button leads: Lark's consent page, or the session's final state. */
export type OpenAuthorizationResult =
  | { readonly kind: "consent"; readonly url: string }
  | { readonly kind: "finished"; readonly session: AuthSession };

/**
 * A click on the card's Authorize button (our redirector, the session's `authorize_url`): load →
 * finished: say so → redirect flow only → not expired (else EXPIRED + event) → arm a fresh state
 * and PKCE verifier → Lark's consent URL. The state is made at click time and handed only to this
 * browser, so it is never at rest in clear (the session, the API and events carry the redirector URL).
 */
export async function openAuthorization(
  deps: OpenAuthorizationDeps,
  sessionId: string,
): Promise<OpenAuthorizationResult> {
  const now = deps.clock.now();
  const state = deps.crypto.randomToken(32);
  const verifier = deps.crypto.randomToken(32);
  type Outcome = { finished: AuthSession; changed: boolean } | { armed: AuthSession };
  const outcome = await deps.uow.run(async (tx): Promise<Outcome> => {
    const session = await tx.lockSession(sessionId);
    if (!session) throw notFound(sessionId);
    if (!isPending(session)) return { finished: session, changed: false };
    // A device session's button opens Lark's verification page; it never comes through here.
    if (session.flow !== "REDIRECT") throw invalidArgument("session_id", "is not a redirect-flow session");
    if (isPastExpiry(session, now)) {
      return { finished: await commitFinish(tx, session, EXPIRED, now), changed: true };
    }
    await tx.armState(session.id, deps.crypto.sha256Hex(state), verifier);
    return { armed: session };
  });
  if ("finished" in outcome) {
    if (outcome.changed) deps.cards.notify(outcome.finished.appId, outcome.finished.id);
    return { kind: "finished", session: outcome.finished };
  }
  const url = deps.lark.buildAuthorizeUrl(outcome.armed.appId, {
    redirectUri: deps.redirectUri,
    scopes: outcome.armed.requestedScopes,
    state,
    codeChallenge: deps.crypto.pkceChallenge(verifier),
  });
  return { kind: "consent", url };
}
