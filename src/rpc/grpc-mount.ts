import { type DescMethod, type DescService, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { DomainError } from "../domain/errors.js";
import type { ShutdownSignals } from "../shutdown.js";
import type { Logger } from "../telemetry/logger.js";
import type { RefusedMetrics } from "../telemetry/metrics.js";
import { type CallSource, endedEarly, newCallContext } from "./call-context.js";
import type { CallContext } from "./context.js";
import {
  deadlineExceeded,
  refusal,
  shuttingDown,
  type TransportRefusal,
  toErrorAnswer,
  undecodable,
} from "./errors.js";
import { endOf } from "./lifecycle.js";
import { type Call, isSharedAnswer, isStream, MAX_REQUEST_BYTES, type Next } from "./pipeline.js";

/** What every grpc-js handler shares: the pipeline, the logger and the shutdown signal. */
export interface GrpcMountDeps {
  readonly pipeline: Next;
  readonly logger: Logger;
  readonly signals: ShutdownSignals;
  /** Counts requests refused before they reach the pipeline (those grpc-js refuses itself). */
  readonly refused?: RefusedMetrics;
}

/** A grpc-js ServiceError carrying the same google.rpc.Status details Connect clients read. */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  const answer = toErrorAnswer(err);
  const metadata = new grpc.Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(answer.statusBin));
  return { code: answer.code as number as grpc.status, details: answer.message, metadata };
}

type AnyCall = grpc.ServerUnaryCall<Buffer, Message> | grpc.ServerWritableStream<Buffer, Message>;

/**
 * What the call context reads from a grpc-js call. A class rather than closures: this runs on
 * every call, and per-call closures showed up in the benchmark's profile.
 */
class GrpcCallSource implements CallSource {
  constructor(
    private readonly call: AnyCall,
    private readonly end: AbortSignal,
  ) {}

  header(name: string): string | undefined {
    const v = this.call.metadata.get(name)[0];
    return typeof v === "string" ? v : undefined;
  }

  /**
   * Attached only when a handler asks for the signal (most never do). grpc-js answers an expired
   * deadline itself without telling the handler, so the deadline gets its own timer.
   */
  signals(): AbortSignal[] {
    const ended = new AbortController();
    const deadline = deadlineOf(this.call);
    if (this.call.cancelled) ended.abort(endedEarly(deadline));
    else this.call.once("cancelled", () => ended.abort(endedEarly(deadline)));
    if (deadline && !ended.signal.aborted) {
      const timer = setTimeout(() => ended.abort(deadlineExceeded()), deadline.getTime() - Date.now());
      timer.unref();
      ended.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    }
    return [ended.signal, this.end];
  }
}

function deadlineOf(call: AnyCall): Date | undefined {
  const deadline = call.getDeadline();
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}

/**
 * One grpc-js call on its way through the pipeline. The request is decoded on first read, not
 * before: authentication reads only headers, so a caller without a key sending garbage is
 * UNAUTHENTICATED, and a malformed payload is INVALID_ARGUMENT (grpc-js would say INTERNAL),
 * recorded by telemetry like any other answer.
 */
class GrpcPipelineCall implements Call {
  readonly ctx: CallContext;
  #request?: Message;
  #invalid?: DomainError | TransportRefusal;

  readonly #refused: RefusedMetrics | undefined;

  constructor(
    readonly method: DescMethod,
    private readonly bytes: Buffer,
    deps: GrpcMountDeps,
    call: AnyCall,
  ) {
    this.#refused = deps.refused;
    const source = new GrpcCallSource(call, endOf(deps.signals, method));
    this.ctx = newCallContext({ method, source, deadline: deadlineOf(call), logger: deps.logger });
  }

  get request(): Message {
    if (this.#request) return this.#request;
    if (this.#invalid) throw this.#invalid;
    if (this.bytes.byteLength > MAX_REQUEST_BYTES) {
      this.#invalid = refusal("too_large", this.method);
      this.#refused?.refused("grpc", "too_large");
      throw this.#invalid;
    }
    try {
      this.#request = fromBinary(this.method.input, this.bytes);
      return this.#request;
    } catch {
      this.#invalid = undecodable(this.method);
      this.#refused?.refused("grpc", "undecodable");
      throw this.#invalid;
    }
  }
}

/**
 * Unary calls not answered yet. When the grace period expires, each still running is answered
 * UNAVAILABLE (SHUTTING_DOWN) before connections are cut, and its late result is dropped. One
 * map entry per call (no listener per call) keeps this off the hot path's cost.
 */
class InflightUnary {
  readonly #calls = new Map<object, grpc.sendUnaryData<Message>>();

  constructor(graceExpired: AbortSignal) {
    graceExpired.addEventListener("abort", () => this.#cutAll(), { once: true });
  }

  begin(call: object, callback: grpc.sendUnaryData<Message>): void {
    this.#calls.set(call, callback);
  }

  /** The call's callback, or undefined when it was already answered at grace expiry. */
  end(call: object): grpc.sendUnaryData<Message> | undefined {
    const callback = this.#calls.get(call);
    this.#calls.delete(call);
    return callback;
  }

  #cutAll(): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const callback of calls) callback(toServiceError(shuttingDown()));
  }
}

async function runUnary(
  deps: GrpcMountDeps,
  method: DescMethod,
  call: grpc.ServerUnaryCall<Buffer, Message>,
  inflight: InflightUnary,
): Promise<void> {
  let response: Message;
  try {
    const pipelineCall = new GrpcPipelineCall(method, call.request, deps, call);
    response = await (deps.pipeline(pipelineCall) as Promise<Message>);
  } catch (err) {
    inflight.end(call)?.(toServiceError(err));
    return;
  }
  inflight.end(call)?.(null, response);
}

function unaryHandler(
  deps: GrpcMountDeps,
  method: DescMethod,
  inflight: InflightUnary,
): grpc.handleUnaryCall<Buffer, Message> {
  return (call, callback) => {
    inflight.begin(call, callback);
    void runUnary(deps, method, call, inflight);
  };
}

/** Waits for backpressure to clear or the call to end, leaving no listener behind either way. */
function drainedOrAborted(
  call: grpc.ServerWritableStream<Buffer, Message>,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      call.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}

async function writeAll(
  call: grpc.ServerWritableStream<Buffer, Message>,
  stream: AsyncIterable<Message>,
  signal: AbortSignal,
) {
  // `signal` combines several (AbortSignal.any): reading its `aborted` walks them every time,
  // which per message per watcher was a visible share of the fan-out's profile. Its event, once.
  let ended = signal.aborted;
  const onAbort = () => {
    ended = true;
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const msg of stream) {
      if (ended) break;
      if (!call.write(msg)) await drainedOrAborted(call, signal);
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

function streamHandler(
  deps: GrpcMountDeps,
  method: DescMethod,
): grpc.handleServerStreamingCall<Buffer, Message> {
  return async (call) => {
    try {
      const pipelineCall = new GrpcPipelineCall(method, call.request, deps, call);
      const result = deps.pipeline(pipelineCall);
      if (!isStream(result)) throw new Error(`${method.name} returned a single answer on a stream`);
      await writeAll(call, result, pipelineCall.ctx.signal);
      if (deps.signals.shutdown.aborted) throw shuttingDown();
      if (!call.cancelled) call.end();
    } catch (err) {
      if (!call.cancelled) call.emit("error", toServiceError(err));
    }
  };
}

/**
 * Encoded responses by message object. A stream message may be one object shared by many calls
 * (the event hub hands the same event to every watcher); encoding it once instead of per stream
 * is most of the fan-out's cost with thousands of watchers (bench/watchers.ts). A unary answer
 * is looked up only when its handler shared it (shareAnswer: a cached token's answer).
 */
const encoded = new WeakMap<Message, Buffer>();

/**
 * The encoded message as a Buffer without a copy: toBinary hands back bytes of their own (a fresh
 * slice of its writer), and grpc-js copies them into the frame anyway.
 */
function encode(schema: DescMethod["input" | "output"], msg: Message): Buffer {
  const bytes = toBinary(schema, msg);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function encodeOnce(schema: DescMethod["output"], msg: Message): Buffer {
  let bytes = encoded.get(msg);
  if (bytes === undefined) {
    bytes = encode(schema, msg);
    encoded.set(msg, bytes);
  }
  return bytes;
}

/**
 * Mounts a protobuf-es service on grpc-js: the method paths, streaming flags and
 * serializers come from the generated descriptor, so there is no second service definition.
 */
export function addGrpcService(server: grpc.Server, service: DescService, deps: GrpcMountDeps): void {
  const definition: Record<string, grpc.MethodDefinition<Message, Message>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  const inflight = new InflightUnary(deps.signals.graceExpired);
  for (const method of service.methods) {
    const streaming = method.methodKind === "server_streaming";
    if (method.methodKind !== "unary" && !streaming)
      throw new Error(`${method.name}: unsupported method kind`);
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: streaming,
      requestSerialize: (msg: Message) => encode(method.input, msg),
      // Kept as bytes: GrpcPipelineCall decodes after authentication; a bad payload is INVALID_ARGUMENT.
      requestDeserialize: (bytes: Buffer) => bytes as unknown as Message,
      responseSerialize: streaming
        ? (msg: Message) => encodeOnce(method.output, msg)
        : (msg: Message) =>
            isSharedAnswer(msg) ? encodeOnce(method.output, msg) : encode(method.output, msg),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
      originalName: method.localName,
    };
    implementation[method.name] = streaming
      ? streamHandler(deps, method)
      : unaryHandler(deps, method, inflight);
  }
  server.addService(definition as grpc.ServiceDefinition, implementation);
}
