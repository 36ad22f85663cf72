// The no-op unary RPC, served twice: by a bare grpc-js server and by the service's own stack (grpc-js
// mounted from protobuf-es descriptors, behind the real interceptors). grpc-noop.ts compares the two;
// the token bench uses the stack as its anchor.
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  AuthService,
  GetAuthSessionRequestSchema,
  GetAuthSessionResponseSchema,
} from "../../gen/lark/auth/v1/auth_service_pb.js";
import { hashCallerKey } from "../../src/crypto/caller-keys.js";
import { addGrpcService } from "../../src/rpc/grpc-mount.js";
import { authenticateInterceptor, authorizeInterceptor } from "../../src/rpc/interceptors/auth.js";
import { telemetryInterceptor } from "../../src/rpc/interceptors/telemetry.js";
import { validateInterceptor } from "../../src/rpc/interceptors/validate.js";
import { createPipeline } from "../../src/rpc/pipeline.js";
import { createShutdownController } from "../../src/shutdown.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { getTracer } from "../../src/telemetry/tracing.js";
import { bareUnaryServer } from "./h2load.js";

export const NOOP_PATH = "/lark.auth.v1.AuthService/GetAuthSession";

/** The no-op call's request body (a session id), unframed. */
export const noopRequest = (): Uint8Array =>
  toBinary(
    GetAuthSessionRequestSchema,
    create(GetAuthSessionRequestSchema, { sessionId: "00000000-0000-4000-8000-000000000000" }),
  );

/** Answers every call with an empty message, nothing decoded. */
export function bareNoopServer(): grpc.Server {
  const empty = Buffer.alloc(0);
  return bareUnaryServer(NOOP_PATH, () => empty);
}

/** GetAuthSession answering an empty response behind the production interceptor chain. */
export function stackNoopServer(callerKey: string): grpc.Server {
  const server = new grpc.Server();
  const method = AuthService.method.getAuthSession;
  const handlers = new Map([[method, async () => create(GetAuthSessionResponseSchema)]]);
  const keys = [
    {
      name: "bench",
      keySha256: hashCallerKey(callerKey),
      permissions: new Map([["*", new Set(["auth:read" as const])]]),
    },
  ];
  const metrics = createMetrics();
  const logger = createLogger({ level: "info" });
  const chain = [
    telemetryInterceptor(getTracer(), metrics.rpc, logger),
    authenticateInterceptor(() => keys),
    validateInterceptor,
    authorizeInterceptor,
  ];
  const pipeline = createPipeline(handlers, chain);
  // Only GetAuthSession is benchmarked; the mount registers the whole service as production does.
  addGrpcService(server, AuthService, { pipeline, logger, signals: createShutdownController(0) });
  return server;
}
