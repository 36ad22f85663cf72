import { randomUUID } from "node:crypto";
import type { DescMethod } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import type { Caller } from "../domain/callers.js";
import type { Logger } from "../telemetry/logger.js";
import type { CallContext, CallTransport } from "./context.js";
import { clientCancelled, deadlineExceeded } from "./errors.js";

/** What a transport exposes of one call. */
export interface CallSource {
  /** A request header (gRPC metadata or HTTP header), lower-case name. */
  header(name: string): string | undefined;
  /** The signals that end the call; read only when a handler asks for `signal`. */
  signals(): AbortSignal[];
  /** The events WebSocket says so; any other source is an RPC transport. */
  readonly transport?: CallTransport;
  /** See CallContext.streamEnded. */
  readonly streamEnded?: (err: Error | undefined) => void;
}

export interface CallContextInit {
  readonly method: DescMethod;
  readonly source: CallSource;
  readonly deadline?: Date;
  readonly logger: Logger;
}

/**
 * The transport-neutral context for one call, identical for both mounts. The abort signal and
 * the child logger are built on first use: most unary calls never touch them, and building
 * them per call costs a measurable share of gRPC throughput (bench/grpc-noop.ts).
 */
class LazyCallContext implements CallContext {
  caller?: Caller;
  #requestId?: string;
  #signal?: AbortSignal;
  #logger?: Logger;

  constructor(private readonly init: CallContextInit) {}

  get requestId(): string {
    if (this.#requestId === undefined) {
      const given = this.init.source.header("x-request-id");
      // A caller-supplied id is kept only when short and plain, so it cannot inject log content.
      this.#requestId = given && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    }
    return this.#requestId;
  }

  get method(): DescMethod {
    return this.init.method;
  }

  get deadline(): Date | undefined {
    return this.init.deadline;
  }

  get transport(): CallTransport {
    return this.init.source.transport ?? "grpc";
  }

  streamEnded(err: Error | undefined): void {
    this.init.source.streamEnded?.(err);
  }

  get signal(): AbortSignal {
    this.#signal ??= AbortSignal.any(this.init.source.signals());
    return this.#signal;
  }

  /** Bound on first use, which comes after authentication, so the caller's name is known. */
  get logger(): Logger {
    if (!this.#logger) {
      const bindings = { request_id: this.requestId, rpc: this.init.method.name, caller: this.caller?.name };
      this.#logger = this.init.logger.child(bindings);
    }
    return this.#logger;
  }

  header(name: string): string | undefined {
    return this.init.source.header(name);
  }
}

/**
 * How close to its deadline a call must end to count as having run out of time. A client's
 * deadline timer starts before the server receives the call, so the client gives up (a plain
 * stream reset or closed socket, like any cancel) shortly before the server's own deadline.
 */
const DEADLINE_SLACK_MS = 250;

/** Why a call ended early when its transport says only "closed": the deadline, or a client cancel. */
export function endedEarly(deadline: Date | undefined): ConnectError {
  return deadline && Date.now() >= deadline.getTime() - DEADLINE_SLACK_MS
    ? deadlineExceeded()
    : clientCancelled();
}

export function newCallContext(init: CallContextInit): CallContext {
  return new LazyCallContext(init);
}
