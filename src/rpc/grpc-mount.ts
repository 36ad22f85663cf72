import { type DescMethod, type DescService, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { DomainError, DomainErrorCode } from "../domain/errors.js";
import { endOf, type ShutdownSignals } from "../shutdown.js";
import type { Logger } from "../telemetry/logger.js";
import { type CallSource, newCallContext } from "./call-context.js";
import { shuttingDown, toErrorAnswer } from "./errors.js";
import { isStream, type Next } from "./pipeline.js";

/** What every grpc-js handler shares: the pipeline, the logger and the shutdown signal. */
export interface GrpcMountDeps {
  readonly pipeline: Next;
  readonly logger: Logger;
  readonly signals: ShutdownSignals;
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

  /** The cancel listener is attached only when a handler asks for the signal (most never do). */
  signals(): AbortSignal[] {
    const aborted = new AbortController();
    if (this.call.cancelled) aborted.abort();
    else this.call.once("cancelled", () => aborted.abort());
    return [aborted.signal, this.end];
  }
}

function deadlineOf(call: AnyCall): Date | undefined {
  const deadline = call.getDeadline();
  if (deadline instanceof Date) return deadline;
  return Number.isFinite(deadline) ? new Date(deadline) : undefined;
}

function prepare(deps: GrpcMountDeps, method: DescMethod, call: AnyCall) {
  const source = new GrpcCallSource(call, endOf(deps.signals, method));
  const ctx = newCallContext({ method, source, deadline: deadlineOf(call), logger: deps.logger });
  // Decoding here (not in grpc-js) turns a malformed payload into INVALID_ARGUMENT.
  let request: Message;
  try {
    request = fromBinary(method.input, call.request);
  } catch {
    throw new DomainError(
      DomainErrorCode.INVALID_ARGUMENT,
      `request is not a valid ${method.input.typeName}`,
    );
  }
  return { ctx, request };
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
    const { ctx, request } = prepare(deps, method, call);
    response = await (deps.pipeline({ method, request, ctx }) as Promise<Message>);
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
  for await (const msg of stream) {
    if (signal.aborted) break;
    if (!call.write(msg)) await drainedOrAborted(call, signal);
  }
}

function streamHandler(
  deps: GrpcMountDeps,
  method: DescMethod,
): grpc.handleServerStreamingCall<Buffer, Message> {
  return async (call) => {
    try {
      const { ctx, request } = prepare(deps, method, call);
      const result = deps.pipeline({ method, request, ctx });
      if (!isStream(result)) throw new Error(`${method.name} returned a single answer on a stream`);
      await writeAll(call, result, ctx.signal);
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
 * is most of the fan-out's cost with thousands of watchers (bench/watchers.ts).
 */
const encoded = new WeakMap<Message, Buffer>();

function encodeOnce(schema: DescMethod["output"], msg: Message): Buffer {
  let bytes = encoded.get(msg);
  if (bytes === undefined) {
    bytes = Buffer.from(toBinary(schema, msg));
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
      requestSerialize: (msg: Message) => Buffer.from(toBinary(method.input, msg)),
      // Kept as bytes: prepare() decodes inside the handler so a bad payload is INVALID_ARGUMENT.
      requestDeserialize: (bytes: Buffer) => bytes as unknown as Message,
      responseSerialize: streaming
        ? (msg: Message) => encodeOnce(method.output, msg)
        : (msg: Message) => Buffer.from(toBinary(method.output, msg)),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
      originalName: method.localName,
    };
    implementation[method.name] = streaming
      ? streamHandler(deps, method)
      : unaryHandler(deps, method, inflight);
  }
  server.addService(definition as grpc.ServiceDefinition, implementation);
}
