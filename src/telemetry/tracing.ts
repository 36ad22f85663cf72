import { isSpanContextValid, type Span, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";

/** Span attribute keys: constants, so no ad-hoc (and possibly secret-bearing) attributes appear. */
export const ATTR = {
  rpcSystem: "rpc.system",
  rpcService: "rpc.service",
  rpcMethod: "rpc.method",
  rpcGrpcStatusCode: "rpc.grpc.status_code",
  dbSystem: "db.system",
  dbOperation: "db.operation.name",
  sessionId: "lark_auth.session_id",
  appId: "lark_auth.app_id",
  flow: "lark_auth.flow",
  requestId: "lark_auth.request_id",
  outcome: "lark_auth.outcome",
} as const;

/** The service's tracer; a no-op until an OpenTelemetry SDK is registered. */
export function getTracer(): Tracer {
  return trace.getTracer("lark-auth-service");
}

/** The ids log lines carry to find their trace; empty when nothing is being traced. */
export function traceFields(span: Span | undefined = trace.getActiveSpan()): {
  trace_id?: string;
  span_id?: string;
} {
  if (!span) return {};
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}

/**
 * Awaits `work` and ends `span` after it; a failure marks the span with the error's class only
 * (a driver or SDK message can quote parameters).
 */
export async function endAfter<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.name ?? "error" });
    throw err;
  } finally {
    span.end();
  }
}
