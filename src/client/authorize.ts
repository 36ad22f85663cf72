import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import {
  type AuthSession,
  AuthSessionState,
  type DescriptionStyle,
  type UserRef,
} from "../../gen/lark/auth/v1/types_pb.js";
import { AuthorizationNotGrantedError, toLarkAuthError } from "./errors.js";

/** The optional parts of StartAuthorization, and how long to wait. */
export interface AuthorizeOptions {
  /** A line of your own on the card. */
  readonly message?: string;
  readonly descriptionStyle?: DescriptionStyle;
  readonly privacyPolicyUrl?: string;
  /** Send a card even when the user already holds a grant covering the scopes. */
  readonly force?: boolean;
  /** Makes the start safe to retry (the client then retries it): the same key returns the same session. */
  readonly idempotencyKey?: string;
  /** Opaque data echoed in the session and its events. */
  readonly context?: string;
  /** Stops waiting (the session stays as it is; cancel it yourself if you no longer want it). */
  readonly signal?: AbortSignal;
  /** Consecutive failed reconnects of the event stream before giving up (default 10). */
  readonly maxResumes?: number;
}

/** How an authorization that ended in consent went. */
export interface Authorization {
  /** True when the user already held a grant covering the scopes: no card was sent. */
  readonly alreadyAuthorized: boolean;
  /** The AUTHORIZED session; unset when alreadyAuthorized. */
  readonly session?: AuthSession;
}

const isFinal = (s: AuthSession) =>
  s.state !== AuthSessionState.PENDING && s.state !== AuthSessionState.UNSPECIFIED;

function settle(session: AuthSession): Authorization {
  if (session.state === AuthSessionState.AUTHORIZED) return { alreadyAuthorized: false, session };
  throw new AuthorizationNotGrantedError(session);
}

/**
 * A broken connection, a replica shutting down (UNAVAILABLE) or an HTTP/2 stream reset: the stream can
 * be resumed from its cursor, and no event is lost across reconnects (the contract's promise).
 */
function isBreak(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted || !(err instanceof ConnectError)) return false;
  return [Code.Unavailable, Code.Internal, Code.Unknown, Code.Canceled, Code.Aborted].includes(err.code);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * Starts an authorization for `user` and resolves once the user consented; rejects with
 * AuthorizationNotGrantedError when the session ends any other way. The outcome is read from
 * WatchAuthEvents filtered to the session, from the oldest retained event, so an outcome that
 * lands before the stream opens is not missed; a broken stream resumes after its last cursor.
 */
export async function authorizeAndWait(
  auth: Client<typeof AuthService>,
  appId: string,
  user: UserRef,
  scopes: readonly string[],
  options: AuthorizeOptions = {},
): Promise<Authorization> {
  const { signal } = options;
  const started = await auth.startAuthorization(
    {
      appId,
      user,
      scopes: [...scopes],
      message: options.message ?? "",
      ...(options.descriptionStyle !== undefined && { descriptionStyle: options.descriptionStyle }),
      privacyPolicyUrl: options.privacyPolicyUrl ?? "",
      force: options.force ?? false,
      idempotencyKey: options.idempotencyKey ?? "",
      context: options.context ?? "",
    },
    { ...(signal && { signal }) },
  );
  if (started.alreadyAuthorized || !started.session) return { alreadyAuthorized: true };
  if (isFinal(started.session)) return settle(started.session);
  return settle(await outcome(auth, appId, started.session.sessionId, options));
}

async function outcome(
  auth: Client<typeof AuthService>,
  appId: string,
  sessionId: string,
  options: AuthorizeOptions,
): Promise<AuthSession> {
  const { signal } = options;
  const maxResumes = options.maxResumes ?? 10;
  let cursor = "";
  let failures = 0;
  for (;;) {
    let last: unknown = new ConnectError(
      "the event stream ended without the session's outcome",
      Code.Unavailable,
    );
    // Leaving the loop (outcome, error) must end the call: a stream left open on the shared HTTP/2
    // connection keeps the server's watcher and the caller's process alive.
    const done = new AbortController();
    try {
      const stream = auth.watchAuthEvents(
        { appId, sessionId, ...(cursor ? { afterEventId: cursor } : { fromOldest: true }) },
        { timeoutMs: 0, signal: signal ? AbortSignal.any([signal, done.signal]) : done.signal },
      );
      for await (const { kind } of stream) {
        failures = 0;
        cursor = kind.value?.eventId ?? cursor;
        const session = kind.case === "event" ? kind.value.session : undefined;
        if (session && isFinal(session)) return session;
      }
      // A clean end without the outcome (a server closing streams on shutdown): resumed like a break.
    } catch (err) {
      last = err;
      if (err instanceof ConnectError && err.code === Code.OutOfRange) {
        // The cursor fell out of retention while we were away: the session itself says how it ended.
        const { session } = await auth.getAuthSession({ sessionId }, { ...(signal && { signal }) });
        if (session && isFinal(session)) return session;
        cursor = "";
      } else if (!isBreak(err, signal)) {
        throw toLarkAuthError(err);
      }
    } finally {
      done.abort();
    }
    if (++failures > maxResumes) throw toLarkAuthError(last);
    await pause(Math.min(5000, 100 * 2 ** failures), signal);
  }
}
