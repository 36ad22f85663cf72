import { assertCan, type Caller } from "../callers.js";
import { DomainError, DomainErrorCode, invalidArgument } from "../errors.js";
import { LarkError } from "../lark-error.js";
import type { AuthTx, FlowCrypto, LarkGateway, LarkUserTokens } from "../ports.js";
import { endPending, type FinishDeps, finishWithTokens } from "./finish-with-tokens.js";
import { type AuthSession, isPending } from "./session.js";
import { commitFinish, EXPIRED, type Finish, isPastExpiry } from "./transitions.js";

export interface CompleteRedirectDeps extends FinishDeps {
  readonly lark: Pick<LarkGateway, "exchangeCode" | "getUserInfo">;
  readonly crypto: FlowCrypto;
  /** The redirect URI the authorize URL named; Lark checks they match. */
  readonly redirectUri: string;
}

type Claim = { readonly session: AuthSession; readonly verifier: string } | { readonly expired: AuthSession };

/**
 * The OAuth redirect's end (the callback page and CompleteAuthorization): claim the state once →
 * assert pending → assert not expired → [no transaction open] exchange the code → finishWithTokens.
 * A Lark outage gives the state back so the user can try again; a refused code ends the session.
 */
export async function completeRedirect(
  deps: CompleteRedirectDeps,
  input: { readonly code: string; readonly state: string },
  /** CompleteAuthorization's caller, who must hold auth:start on the session's app; absent for the callback page. */
  caller?: Caller,
): Promise<AuthSession> {
  if (input.code === "") throw invalidArgument("code", "is required");
  const hash = deps.crypto.sha256Hex(input.state);
  const claim = await deps.uow.run((tx) => claimState(tx, hash, deps.clock.now(), caller));
  if ("expired" in claim) {
    deps.cards.notify(claim.expired.appId, claim.expired.id);
    throw new DomainError(DomainErrorCode.SESSION_EXPIRED, `auth session ${claim.expired.id} has expired`, {
      metadata: { session_id: claim.expired.id },
    });
  }
  const { session, verifier } = claim;
  let tokens: LarkUserTokens;
  try {
    tokens = await deps.lark.exchangeCode(session.appId, {
      code: input.code,
      redirectUri: deps.redirectUri,
      codeVerifier: verifier,
    });
  } catch (err) {
    if (err instanceof LarkError && err.kind === "terminal") {
      return endPending(deps, session.id, codeFailure(err.code));
    }
    await deps.uow.run((tx) => tx.releaseState(session.id));
    throw new DomainError(
      DomainErrorCode.LARK_UNAVAILABLE,
      "Lark did not complete the authorization; open the link again in a moment",
      { retryAfterMs: 1000, metadata: { session_id: session.id } },
      { cause: err },
    );
  }
  return finishWithTokens(deps, session, tokens);
}

/** One transaction: the state is used from here on, unless the exchange fails transiently. */
async function claimState(tx: AuthTx, stateHash: string, now: Date, caller?: Caller): Promise<Claim> {
  const { session } = await consumeStateOrThrow(tx, stateHash);
  // Throwing here rolls the claim back: a caller without the permission cannot burn a user's state.
  if (caller) assertCan(caller, "auth:start", session.appId);
  if (!isPending(session)) {
    throw new DomainError(
      DomainErrorCode.SESSION_NOT_PENDING,
      `auth session ${session.id} is ${session.state}`,
      {
        metadata: { session_id: session.id, state: session.state },
      },
    );
  }
  if (isPastExpiry(session, now)) return { expired: await commitFinish(tx, session, EXPIRED, now) };
  const { pkceVerifier } = await tx.openSecrets(session.id);
  if (!pkceVerifier) throw new Error(`redirect session ${session.id} has no PKCE verifier`);
  return { session, verifier: pkceVerifier };
}

/** Claims the state once: STATE_INVALID when no session has it, STATE_ALREADY_USED when it was claimed before. */
export async function consumeStateOrThrow(tx: AuthTx, stateHash: string): Promise<{ session: AuthSession }> {
  const found = await tx.consumeState(stateHash);
  if (found === undefined) {
    throw new DomainError(
      DomainErrorCode.STATE_INVALID,
      "this authorization link is not one this service issued",
    );
  }
  if (found === "used") {
    throw new DomainError(
      DomainErrorCode.STATE_ALREADY_USED,
      "this authorization link has already been used",
    );
  }
  return found;
}

/** Lark's token-endpoint codes (reference/lark-platform.md) as stable failure reasons. */
function codeFailure(code: number): Finish {
  switch (code) {
    case 20004:
      return {
        state: "FAILED",
        reason: "CODE_EXPIRED",
        message: "the authorization code expired before use",
      };
    case 20065:
      return {
        state: "FAILED",
        reason: "CODE_ALREADY_USED",
        message: "the authorization code was already used",
      };
    case 20003: // unknown code
    case 20024: // another app's code
    case 20049: // PKCE verification failed
    case 20071: // redirect_uri differs
      return { state: "FAILED", reason: "CODE_INVALID", message: "Lark refused the authorization code" };
    default:
      return {
        state: "FAILED",
        reason: "LARK_ERROR",
        message: `Lark refused the code exchange (code ${code})`,
      };
  }
}
