import { type Span, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";

/** Span attribute keys: constants, so no ad-hoc (and possibly secret-bearing) attributes appear. */
export const ATTR = {
  rpcSystem: "rpc.system",
  rpcService: "rpc.service",
  rpcMethod: "rpc.method",
  requestId: "lark_auth.request_id",
  appId: "lark_auth.app_id",
  sessionId: "lark_auth.session_id",
  outcome: "lark_auth.outcome",
} as const;

/** The service's tracer; a no-op until an OpenTelemetry SDK is registered. */
export function getTracer(): Tracer {
  return trace.getTracer("lark-auth-service");
}

/**
 * Runs `fn` inside a span named `name`. A thrown error marks the span ERROR unless
 * `isExpected(err)` says it is a normal outcome (not found, already finished).
 */
export async function withSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Record<string, string>,
  fn: (span: Span) => Promise<T>,
  isExpected: (err: unknown) => boolean = () => false,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      if (!isExpected(err)) span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).name });
      throw err;
    } finally {
      span.end();
    }
  });
}
