import { Agent } from "node:http";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { toLarkAuthError } from "./errors.js";
import { type RetryOptions, retryInterceptor } from "./retry.js";

/** Where the service is and how to reach it. */
export interface ConnectionOptions {
  /**
   * The service's base URL: its gRPC (h2c) port for `transport: "grpc"`, e.g. `http://lark-auth:50051`,
   * or its HTTP port for `"connect"`, e.g. `http://lark-auth:8080`.
   */
  readonly baseUrl: string;
  /** The caller key, sent as `authorization: Bearer`; it never appears in an error or a log. */
  readonly callerKey: string;
  /** gRPC over HTTP/2 (default), or the Connect protocol over HTTP/1.1 (through proxies that only speak 1.1). */
  readonly transport?: "grpc" | "connect";
  /** The deadline of every unary call that sets none (default 10,000 ms); streams have none. */
  readonly timeoutMs?: number;
  /** Retries of calls the contract calls safe; `{ attempts: 1 }` turns them off. */
  readonly retry?: RetryOptions;
  /** Interceptors of your own (tracing, logging), run outside the client's own. */
  readonly interceptors?: readonly Interceptor[];
}

/** Header values are only ever set here, so nothing else in the client touches the key. */
function bearer(callerKey: string): Interceptor {
  const value = `Bearer ${callerKey}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}

/** Unary answers as typed errors (LarkAuthError and friends) instead of bare ConnectErrors. */
const typedErrors: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    throw toLarkAuthError(err);
  }
};

/**
 * A transport with the key, the typed errors and the retries. The default deadline is applied to unary
 * calls only: a WatchAuthEvents stream is meant to stay open, so it gets none unless the caller asks.
 */
export function createTransport(options: ConnectionOptions): Transport {
  const interceptors = [
    ...(options.interceptors ?? []),
    typedErrors,
    retryInterceptor(options.retry),
    bearer(options.callerKey),
  ];
  const base =
    options.transport === "connect"
      ? createConnectTransport({
          baseUrl: options.baseUrl,
          httpVersion: "1.1",
          interceptors,
          // A keep-alive pool of its own, like the gRPC transport's own HTTP/2 session: a client's
          // connections are never shared with unrelated code through Node's global agent.
          nodeOptions: { agent: new Agent({ keepAlive: true }) },
        })
      : createGrpcTransport({ baseUrl: options.baseUrl, interceptors });
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    unary: (method, signal, timeout, header, input, contextValues) =>
      base.unary(method, signal, timeout ?? timeoutMs, header, input, contextValues),
    stream: (method, signal, timeout, header, input, contextValues) =>
      base.stream(method, signal, timeout, header, input, contextValues),
  };
}
