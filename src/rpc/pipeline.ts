import type { DescMethod, Message } from "@bufbuild/protobuf";
import type { CallContext } from "./context.js";

/** The largest request either transport accepts, in bytes; larger ones are RESOURCE_EXHAUSTED. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** One call travelling through the interceptor chain to its handler. */
export interface Call {
  readonly method: DescMethod;
  readonly request: Message;
  readonly ctx: CallContext;
}

/** A unary handler answers once; a server-streaming one yields many responses. */
export type CallResult = Promise<Message> | AsyncIterable<Message>;
export type Next = (call: Call) => CallResult;
/** Wraps the rest of the chain; runs identically for the grpc-js and connect-node mounts. */
export type Interceptor = (next: Next) => Next;

/** A service implementation: one function per method, keyed by the method's local name. */
export type ServiceHandlers = Record<string, (request: never, ctx: CallContext) => CallResult>;

/** Composes interceptors (first = outermost) around the dispatcher of the given handlers. */
export function createPipeline(
  handlers: ReadonlyMap<DescMethod, ServiceHandlers[string]>,
  chain: readonly Interceptor[],
): Next {
  const dispatch: Next = (call) => {
    const handler = handlers.get(call.method);
    if (!handler) throw new Error(`no handler for ${call.method.parent.typeName}/${call.method.name}`);
    return handler(call.request as never, call.ctx);
  };
  return chain.reduceRight<Next>((next, interceptor) => interceptor(next), dispatch);
}

/** True when a call result is a stream rather than a single answer. */
export function isStream(result: CallResult): result is AsyncIterable<Message> {
  return typeof (result as AsyncIterable<Message>)[Symbol.asyncIterator] === "function";
}
