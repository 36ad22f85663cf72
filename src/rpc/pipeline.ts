import type {
  DescMethod,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  Message,
  MessageShape,
} from "@bufbuild/protobuf";
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

/** Any method's handler, as the dispatcher calls it (the request type is erased). */
export type AnyHandler = (request: never, ctx: CallContext) => CallResult;
/** A service implementation with its types erased, keyed by the method's local name. */
export type ServiceHandlers = Record<string, AnyHandler>;

/** The handler of one method, typed from its descriptor (connect-es's MethodImpl, with our context). */
export type MethodImpl<M> =
  M extends DescMethodUnary<infer I, infer O>
    ? (request: MessageShape<I>, ctx: CallContext) => Promise<MessageShape<O>>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (request: MessageShape<I>, ctx: CallContext) => AsyncIterable<MessageShape<O>>
      : never;

/**
 * A service implementation typed from its generated descriptor: every method present, no
 * other key, so a misspelt or missing handler is a compile error rather than UNIMPLEMENTED.
 */
export type ServiceImpl<S extends DescService> = { [K in keyof S["method"]]: MethodImpl<S["method"][K]> };

/** The dispatcher's entries for one service: each method descriptor with its handler. */
export function bindService<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
): [DescMethod, AnyHandler][] {
  const handlers = impl as unknown as ServiceHandlers;
  return service.methods.map((method) => {
    const handler = handlers[method.localName];
    if (!handler) throw new Error(`${service.typeName}: no handler for ${method.name}`);
    return [method, handler];
  });
}

/** Composes interceptors (first = outermost) around the dispatcher of the given handlers. */
export function createPipeline(
  handlers: ReadonlyMap<DescMethod, AnyHandler>,
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

/**
 * Thrown by the placeholder request of a check run before the body is read (connect-node's
 * request gate): a check that reads the request has finished with the headers, and the rest of
 * its work waits for the pipeline.
 */
export class RequestNotRead extends Error {
  override readonly name = "RequestNotRead";
}

/** Answers handed to many calls; see shareAnswer. */
const shared = new WeakSet<Message>();

/**
 * Marks a response that a handler hands to many calls (built once from an immutable value, never
 * changed afterwards): the gRPC mount then encodes it once rather than per call.
 */
export function shareAnswer<M extends Message>(msg: M): M {
  shared.add(msg);
  return msg;
}

export const isSharedAnswer = (msg: Message): boolean => shared.has(msg);
