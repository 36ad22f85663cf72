import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import type { DescMethod } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { AuthService, file_lark_auth_v1_auth_service } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { createHttpServer } from "../../src/http/server.js";
import { addConnectService } from "../../src/rpc/connect-mount.js";
import { createGrpcServer } from "../../src/rpc/grpc-server.js";
import { telemetryInterceptor } from "../../src/rpc/interceptors/telemetry.js";
import { type AnyHandler, createPipeline, type Interceptor } from "../../src/rpc/pipeline.js";
import { createShutdownController } from "../../src/shutdown.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { createMetrics } from "../../src/telemetry/metrics.js";

/**
 * The real grpc-js and connect-node servers, mounted as app.ts mounts them, around the real
 * telemetry interceptor (plus `chain`) and the given test handlers, with logs, spans and
 * metrics captured. No database: for tests of the transports themselves.
 */
export async function startRpcServers(opts: {
  handlers: [DescMethod, AnyHandler][];
  chain?: Interceptor[];
  graceMs?: number;
}) {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    destination: new Writable({
      write(chunk, _enc, cb) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        cb();
      },
    }),
  });
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const metrics = createMetrics();
  const stopping = createShutdownController(opts.graceMs ?? 2_000);
  const chain = [
    telemetryInterceptor(provider.getTracer("test"), metrics.rpc, logger),
    ...(opts.chain ?? []),
  ];
  const mount = {
    pipeline: createPipeline(new Map(opts.handlers), chain),
    logger,
    signals: stopping,
  };
  const grpc = createGrpcServer([AuthService], [file_lark_auth_v1_auth_service], mount);
  const http: Server = createHttpServer({
    routes: (router) => addConnectService(router, AuthService, mount),
    ready: async () => ({ ready: true, checks: {} }),
    metrics: metrics.registry,
    logger,
    signals: stopping,
  });
  const grpcPort = await grpc.listen("127.0.0.1", 0);
  const httpPort = await new Promise<number>((resolve) =>
    http.listen(0, "127.0.0.1", () => resolve((http.address() as AddressInfo).port)),
  );
  const grpcUrl = `http://127.0.0.1:${grpcPort}`;
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let closing: Promise<void> | undefined;
  return {
    grpcPort,
    httpPort,
    grpcUrl,
    httpUrl,
    grpc,
    http,
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    spans: () => exporter.getFinishedSpans(),
    metricsText: () => metrics.registry.metrics(),
    clients: () => ({
      grpc: createClient(AuthService, createGrpcTransport({ baseUrl: grpcUrl })),
      connect: createClient(AuthService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" })),
      grpcWeb: createClient(AuthService, createGrpcWebTransport({ baseUrl: httpUrl, httpVersion: "1.1" })),
    }),
    close: () => {
      closing ??= stopping.drain(grpc, http);
      return closing;
    },
  };
}

export type RpcServers = Awaited<ReturnType<typeof startRpcServers>>;
