import {
  type Attributes,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  SpanKind,
  trace,
} from "@opentelemetry/api";
import { ATTR, endAfter, getTracer } from "./tracing.js";

/**
 * Ties the spans of one authorization together. A session's creation (StartAuthorization) and its
 * end (the OAuth callback, a card action, the device poller, the sweeper) are separate traces,
 * often minutes apart; each span that changes a session carries its id, and the end links back to
 * the creation's span when this process started it (a bounded, in-memory map: another replica's
 * creation leaves the span with the session id alone).
 */
export interface SessionTraces {
  /** The current span created `sessionId`. */
  started(sessionId: string): void;
  /** The current span moved `sessionId` on (finished it). */
  changed(sessionId: string): void;
}

export function createSessionTraces(maxRemembered = 10_000): SessionTraces {
  const origins = new Map<string, SpanContext>();
  return {
    started(sessionId) {
      const span = trace.getActiveSpan();
      if (!span?.isRecording()) return;
      span.setAttribute(ATTR.sessionId, sessionId);
      // Insertion order is age: the oldest entry goes first once the map is full.
      if (origins.size >= maxRemembered) origins.delete(origins.keys().next().value as string);
      origins.set(sessionId, span.spanContext());
    },
    changed(sessionId) {
      const span = trace.getActiveSpan();
      if (!span?.isRecording()) return;
      span.setAttribute(ATTR.sessionId, sessionId);
      const origin = origins.get(sessionId);
      if (origin) {
        span.addLink({ context: origin, attributes: { [ATTR.sessionId]: sessionId } });
        origins.delete(sessionId);
      }
    },
  };
}

/**
 * Runs `work` as a SERVER span of its own trace, or of the one the `headers` carry (W3C
 * traceparent): the entry points that are not RPCs (the OAuth callback, card actions from Lark).
 * `attributes` must be constants of the entry point, never request content.
 */
export function withEntrySpan<T>(
  name: string,
  attributes: Attributes,
  headers: Readonly<Record<string, string | string[] | undefined>> | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const parent = headers ? propagation.extract(ROOT_CONTEXT, headers) : ROOT_CONTEXT;
  return getTracer().startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, parent, (span) =>
    endAfter(span, work),
  );
}
