import type { DescMethod, Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { Logger } from "../../telemetry/logger.js";
import type { RpcMetrics } from "../../telemetry/metrics.js";
import { ATTR, traceFields } from "../../telemetry/tracing.js";
import { callOutcome, errorCode, errorReason, isFaultOutcome } from "../errors.js";
import { type Call, type CallResult, type Interceptor, isStream, RequestNotRead } from "../pipeline.js";

/**
 * One span, one duration sample and one log line per call. Expected outcomes (not found,
 * denied, invalid) are recorded with their reason but are not span errors; no request or
 * response content is recorded, so no secret can leak through telemetry.
 */
export function telemetryInterceptor(tracer: Tracer, metrics: RpcMetrics, logger: Logger): Interceptor {
  // Checked once: building a per-call child logger just to drop a debug line is a hot-path cost.
  const debug = logger.isLevelEnabled("debug");
  const record: Recorder = { metrics, debug };
  return (next) => (call) => {
    const started = performance.now();
    const { span, active } = startServerSpan(tracer, call);
    let result: CallResult;
    try {
      // The handler (and the database and Lark spans under it) runs with this call's span as parent.
      result = active ? context.with(active, () => next(call)) : next(call);
    } catch (err) {
      throw finish(record, call, span, started, err);
    }
    if (isStream(result)) return traced(result, record, call, span, started, active);
    return settled(result, record, call, span, started);
  };
}

/**
 * For checks run before a request's body is read (connect-node's request gate): a request they
 * refuse is recorded exactly as a call would be (span, duration, log line); one they let through
 * is recorded later, by telemetryInterceptor in the pipeline.
 */
export function refusalTelemetry(tracer: Tracer, metrics: RpcMetrics): Interceptor {
  const record: Recorder = { metrics, debug: false };
  return (next) => (call) => {
    const started = performance.now();
    try {
      return next(call);
    } catch (err) {
      if (err instanceof RequestNotRead) throw err; // Passed the header checks: not a refusal.
      const { span } = startServerSpan(tracer, call);
      throw finish(record, call, span, started, err);
    }
  };
}

/** Reads the caller's W3C `traceparent`/`tracestate` from gRPC metadata or HTTP headers alike. */
const headers: TextMapGetter<Call> = {
  get: (call, key) => call.ctx.header(key.toLowerCase()),
  keys: () => ["traceparent", "tracestate"],
};

/**
 * The call's SERVER span, continuing the caller's trace when it sent one, and the context the
 * rest of the call runs in. With no SDK registered the span is a no-op and no context is built,
 * so an untraced service pays nothing per call.
 */
function startServerSpan(tracer: Tracer, call: Call): { span: Span; active?: Context } {
  const parent = propagation.extract(ROOT_CONTEXT, call, headers);
  const span = tracer.startSpan(
    spanName(call.method),
    { kind: SpanKind.SERVER, attributes: methodAttributes(call.method) },
    parent,
  );
  if (!span.isRecording()) return { span };
  span.setAttribute(ATTR.requestId, call.ctx.requestId);
  return { span, active: trace.setSpan(parent, span) };
}

interface Recorder {
  readonly metrics: RpcMetrics;
  readonly debug: boolean;
}

/**
 * Records one finished call: a duration sample, the span's outcome, one log line. Returns what
 * the call really ended with (an AbortError becomes the cancel, deadline or shutdown behind it),
 * which is what the transports answer.
 */
function finish(record: Recorder, call: Call, span: Span, started: number, thrown?: unknown): unknown {
  const err = thrown === undefined ? undefined : callOutcome(thrown, () => call.ctx.signal);
  const reason = err === undefined ? "OK" : errorReason(err);
  const code = err === undefined ? 0 : errorCode(err);
  record.metrics.observe(call.method.name, code, reason, (performance.now() - started) / 1000);
  if (span.isRecording()) {
    span.setAttribute(ATTR.outcome, reason);
    span.setAttribute(ATTR.rpcGrpcStatusCode, code);
  }
  // A caller cancelling or its deadline passing is not a fault of this service.
  if (err !== undefined && isFaultOutcome(err)) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    call.ctx.logger.error({ err, ...subjectOf(call), ...traceFields(span) }, "rpc failed");
  } else if (err !== undefined) {
    call.ctx.logger.info({ reason, ...subjectOf(call), ...traceFields(span) }, "rpc rejected");
  } else if (record.debug) {
    call.ctx.logger.debug({ ...subjectOf(call), ...traceFields(span) }, "rpc ok");
  }
  span.end();
  return err;
}

async function settled(result: Promise<Message>, record: Recorder, call: Call, span: Span, started: number) {
  let response: Message;
  try {
    response = await result;
  } catch (err) {
    throw finish(record, call, span, started, err);
  }
  finish(record, call, span, started);
  return response;
}

/** The app and session a call concerns, for log lines: ids only, never other request fields. */
function subjectOf(call: Call): { app_id?: string; session_id?: string } {
  let appId: unknown;
  let sessionId: unknown;
  try {
    ({ appId, sessionId } = call.request as { appId?: unknown; sessionId?: unknown });
  } catch {
    return {}; // The body did not decode, or is not read yet: there is no subject to name.
  }
  return {
    app_id: typeof appId === "string" && appId !== "" ? appId : undefined,
    session_id: typeof sessionId === "string" && sessionId !== "" ? sessionId : undefined,
  };
}

const names = new WeakMap<DescMethod, string>();
const attributes = new WeakMap<DescMethod, Attributes>();

function spanName(method: DescMethod): string {
  let name = names.get(method);
  if (!name) {
    name = `${method.parent.typeName}/${method.name}`;
    names.set(method, name);
  }
  return name;
}

/** Per-method constant attributes, built once rather than per call. */
function methodAttributes(method: DescMethod): Attributes {
  let attrs = attributes.get(method);
  if (!attrs) {
    attrs = {
      [ATTR.rpcSystem]: "grpc",
      [ATTR.rpcService]: method.parent.typeName,
      [ATTR.rpcMethod]: method.name,
    };
    attributes.set(method, attrs);
  }
  return attrs;
}

/**
 * Records a stream once it ends: finished, failed, or closed early by its consumer (the caller
 * went away), recorded as CANCELLED. A plain iterator rather than an async generator: with
 * thousands of watchers, each generator step's extra promise hops per message showed in the
 * fan-out's profile (bench/watchers.ts). The inner stream runs in the call's context, since it
 * resumes in whichever context calls next(), which is the transport's, outside the call's span.
 */
class TracedStream implements AsyncIterableIterator<Message> {
  #inner?: AsyncIterator<Message>;
  #ended = false;

  constructor(
    private readonly stream: AsyncIterable<Message>,
    private readonly record: Recorder,
    private readonly call: Call,
    private readonly span: Span,
    private readonly started: number,
    private readonly active: Context | undefined,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Message>> {
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    let step: Promise<IteratorResult<Message>>;
    try {
      step = this.#run(() => this.#iterator().next());
    } catch (err) {
      return Promise.reject(this.#end(err));
    }
    return step.then(
      (r) => {
        if (r.done) this.#end();
        return r;
      },
      (err: unknown) => {
        throw this.#end(err);
      },
    );
  }

  return(value?: unknown): Promise<IteratorResult<Message>> {
    if (!this.#ended) this.#end(closedByCaller());
    const inner = this.#inner;
    if (inner?.return === undefined) return Promise.resolve({ done: true, value } as IteratorResult<Message>);
    return this.#run(() => (inner.return as NonNullable<typeof inner.return>).call(inner, value));
  }

  #iterator(): AsyncIterator<Message> {
    this.#inner ??= this.#run(() => this.stream[Symbol.asyncIterator]());
    return this.#inner;
  }

  #run<T>(fn: () => T): T {
    return this.active ? context.with(this.active, fn) : fn();
  }

  /** Records the outcome once; returns what the call really ended with (see finish). */
  #end(err?: unknown): unknown {
    this.#ended = true;
    return finish(this.record, this.call, this.span, this.started, err);
  }
}

function traced(
  stream: AsyncIterable<Message>,
  record: Recorder,
  call: Call,
  span: Span,
  started: number,
  active: Context | undefined,
): AsyncIterable<Message> {
  return new TracedStream(stream, record, call, span, started, active);
}

function closedByCaller(): ConnectError {
  return new ConnectError("the stream was closed by its consumer", Code.Canceled);
}

export type { Call };
