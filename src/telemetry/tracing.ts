import { type Tracer, trace } from "@opentelemetry/api";

/** Span attribute keys: constants, so no ad-hoc (and possibly secret-bearing) attributes appear. */
export const ATTR = {
  rpcSystem: "rpc.system",
  rpcService: "rpc.service",
  rpcMethod: "rpc.method",
  requestId: "lark_auth.request_id",
  outcome: "lark_auth.outcome",
} as const;

/** The service's tracer; a no-op until an OpenTelemetry SDK is registered. */
export function getTracer(): Tracer {
  return trace.getTracer("lark-auth-service");
}
