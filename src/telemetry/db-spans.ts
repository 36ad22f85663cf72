import { type Span, SpanKind, trace } from "@opentelemetry/api";
import { ATTR, endAfter, getTracer } from "./tracing.js";

/** Constant per operation: the attributes name the operation and the system, never SQL or its parameters. */
const attributes = new Map<string, Record<string, string>>();

/**
 * Runs one store operation (a repository call or a whole unit of work) as a CLIENT span under the
 * current span. Work with no recording parent (nothing traced, or a job outside any trace) runs
 * bare, so an untraced service, and the token read path, pay one context lookup.
 */
export function withDbSpan<T>(operation: string, run: () => Promise<T>): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return run();
  let attrs = attributes.get(operation);
  if (!attrs) {
    attrs = { [ATTR.dbSystem]: "postgresql", [ATTR.dbOperation]: operation };
    attributes.set(operation, attrs);
  }
  return getTracer().startActiveSpan(
    `db ${operation}`,
    { kind: SpanKind.CLIENT, attributes: attrs },
    (span: Span) => endAfter(span, run),
  );
}
