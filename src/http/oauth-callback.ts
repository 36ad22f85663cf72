import type { IncomingMessage, ServerResponse } from "node:http";
import { DomainError } from "../domain/errors.js";
import { SESSION_STATES, type SessionState } from "../domain/sessions/session.js";
import type { Logger } from "../telemetry/logger.js";
import { PAGE_HEADERS } from "./pages/html.js";
import { type CallbackOutcome, renderResultPage } from "./pages/result-page.js";

/** Where a finished callback left its session (an AuthSession fits). */
export interface CallbackResult {
  readonly state: SessionState;
  readonly failureReason?: string;
}

/** The domain use cases the callback hands over to; it does nothing else. */
export interface OAuthCallbackDeps {
  /** Completes the redirect flow (domain/sessions/complete-redirect.ts). */
  completeRedirect(input: { readonly code: string; readonly state: string }): Promise<CallbackResult>;
  /** The user pressed "deny" on Lark's consent page (`error=access_denied`). */
  declineByState(state: string): Promise<CallbackResult>;
  readonly logger: Pick<Logger, "warn" | "error">;
}

/** The path Lark redirects browsers to; the authorize URL's redirect_uri is `${publicUrl}${OAUTH_CALLBACK_PATH}`. */
export const OAUTH_CALLBACK_PATH = "/oauth/callback";

/** Bounds on what a query value may be before it is worth a database lookup. */
const MAX_PARAM_LENGTH = 512;

/**
 * `GET /oauth/callback?code&state` (or `?error=access_denied&state`): hands the parameters to the
 * domain and answers a result page for every outcome. Guarantees: never throws (a failure is the
 * error page), never echoes the code, the state or Lark's error text, and every answer carries
 * PAGE_HEADERS (no-store, no-referrer, a script-free CSP).
 */
export function createOAuthCallbackRoute(
  deps: OAuthCallbackDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const outcome = await handle(deps, new URL(req.url ?? "/", "http://callback.invalid").searchParams);
    sendResultPage(req, res, outcome);
  };
}

/** Answers a result page with PAGE_HEADERS (no-store, no-referrer, a script-free CSP). */
export function sendResultPage(req: IncomingMessage, res: ServerResponse, outcome: CallbackOutcome): void {
  const page = renderResultPage(outcome);
  res.writeHead(page.status, { ...PAGE_HEADERS, "content-length": Buffer.byteLength(page.html) });
  res.end(req.method === "HEAD" ? undefined : page.html);
}

async function handle(deps: OAuthCallbackDeps, query: URLSearchParams): Promise<CallbackOutcome> {
  const state = param(query, "state");
  const code = param(query, "code");
  const error = query.get("error");
  if (!state) return "invalid";
  try {
    if (error === "access_denied") return outcomeOf(await deps.declineByState(state));
    // Any other OAuth error (invalid_scope, server_error) leaves the session for the user to retry.
    if (error !== null) {
      deps.logger.warn({ oauthError: error.slice(0, 64) }, "oauth callback carried an error");
      return "failed";
    }
    if (!code) return "invalid";
    return outcomeOf(await deps.completeRedirect({ code, state }));
  } catch (err) {
    return outcomeOfError(deps, err);
  }
}

function param(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value && value.length <= MAX_PARAM_LENGTH ? value : undefined;
}

/** The page a session's state calls for (also the redirector's answer for a finished session). */
export function outcomeOf(result: CallbackResult): CallbackOutcome {
  switch (result.state) {
    case "AUTHORIZED":
      return "success";
    case "DECLINED":
      return "declined";
    case "EXPIRED":
      return "expired";
    case "CANCELLED":
      return "already_used";
    case "FAILED":
      return result.failureReason === "USER_MISMATCH" ? "user_mismatch" : "failed";
    case "PENDING":
      // Still pending after a callback: a transient failure left the session open for another try.
      return "error";
  }
}

/** Expected refusals by their stable code (domain/errors.ts); anything else is logged and shown as the retry page. */
export function outcomeOfError(
  deps: { readonly logger: Pick<Logger, "error"> },
  err: unknown,
): CallbackOutcome {
  const code: string | undefined = err instanceof DomainError ? err.code : undefined;
  switch (code) {
    case "STATE_INVALID":
    case "INVALID_ARGUMENT":
    case "SESSION_NOT_FOUND":
      return "invalid";
    case "STATE_ALREADY_USED":
      return "already_used";
    case "SESSION_NOT_PENDING":
      return endedMeanwhile(err as DomainError);
    case "SESSION_EXPIRED":
      return "expired";
    default:
      // The error's message and cause are safe for logs (the logger redacts); never for the page.
      deps.logger.error({ err }, "oauth callback failed");
      return "error";
  }
}

/**
 * A fresh state whose session is no longer pending: it ended (expired, declined in the chat, withdrawn)
 * while the person was on Lark's consent page. The page says how it ended, not "already used".
 */
function endedMeanwhile(err: DomainError): CallbackOutcome {
  const state = err.details.metadata?.state;
  const known = SESSION_STATES.find((s) => s === state);
  return known ? outcomeOf({ state: known }) : "already_used";
}
