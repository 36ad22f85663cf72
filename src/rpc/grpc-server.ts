import type { DescFile, DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { routeGrpcLogging } from "./grpc-logging.js";
import { addGrpcService, type GrpcMountDeps } from "./grpc-mount.js";
import { grpcRefusals } from "./grpc-refusals.js";
import { MAX_REQUEST_BYTES } from "./pipeline.js";
import { addReflection } from "./reflection.js";

/**
 * The h2c gRPC server with health and reflection; health flips to NOT_SERVING on shutdown.
 * Health's overall status ("") is liveness: the process serves. Each service's own status
 * (`lark.auth.v1.AuthService`, ...) is readiness once `followReadiness` runs: the database answers
 * and is migrated, so Kubernetes' native gRPC probes can tell the two apart.
 */
export interface GrpcServer {
  readonly server: grpc.Server;
  readonly health: HealthImplementation;
  listen(host: string, port: number): Promise<number>;
  /** Re-checks readiness every `everyMs` and mirrors it on each service's health status until shutdown. */
  followReadiness(ready: () => Promise<boolean>, everyMs?: number): void;
  /** Stops accepting, waits up to `graceMs` for in-flight calls, then cancels the rest. */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * How long a connection may hold the gRPC port without progress, in milliseconds. The server
 * pings each connection, so a half-open one (a peer gone without a FIN) is found and closed;
 * long watch streams are kept alive by those pings, never by trusting the socket.
 */
export interface GrpcLimits {
  /** How often the server pings a connection. */
  readonly keepaliveTimeMs: number;
  /** How long a ping may go unanswered before the connection is closed. */
  readonly keepaliveTimeoutMs: number;
  /** A connection with no call open for this long is closed (GOAWAY). */
  readonly maxConnectionIdleMs: number;
}

export const DEFAULT_GRPC_LIMITS: GrpcLimits = {
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxConnectionIdleMs: 300_000,
};

export function createGrpcServer(
  services: readonly DescService[],
  files: readonly DescFile[],
  deps: GrpcMountDeps,
  limits: GrpcLimits = DEFAULT_GRPC_LIMITS,
): GrpcServer {
  routeGrpcLogging(deps.logger);
  const server = new grpc.Server({
    // First, so it sees the base call grpc-js answers its own refusals from.
    interceptors: [grpcRefusals(services, deps)],
    // Up to 4x the limit reaches the mount, which refuses over-limit requests with the same
    // answer (ErrorInfo) as the HTTP port, after authentication; beyond that grpc-js refuses.
    "grpc.max_receive_message_length": 4 * MAX_REQUEST_BYTES,
    "grpc.keepalive_time_ms": limits.keepaliveTimeMs,
    "grpc.keepalive_timeout_ms": limits.keepaliveTimeoutMs,
    "grpc.max_connection_idle_ms": limits.maxConnectionIdleMs,
  });
  const names = services.map((s) => s.typeName);
  const health = new HealthImplementation(Object.fromEntries(["", ...names].map((n) => [n, "NOT_SERVING"])));
  health.addToServer(server);
  addReflection(server, files, names);
  for (const service of services) addGrpcService(server, service, deps);
  let stopped = false;
  let readiness: NodeJS.Timeout | undefined;
  return {
    server,
    health,
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        server.bindAsync(
          `${host.includes(":") ? `[${host}]` : host}:${port}`,
          grpc.ServerCredentials.createInsecure(),
          (err, bound) => {
            if (err) return reject(err);
            for (const n of ["", ...names]) health.setStatus(n, "SERVING");
            resolve(bound);
          },
        );
      }),
    followReadiness: (ready, everyMs = 5_000) => {
      const check = async () => {
        const ok = await ready().catch(() => false);
        if (stopped) return;
        for (const n of names) health.setStatus(n, ok ? "SERVING" : "NOT_SERVING");
      };
      void check();
      readiness = setInterval(check, everyMs);
      readiness.unref();
    },
    shutdown: (graceMs) =>
      new Promise((resolve) => {
        stopped = true;
        clearInterval(readiness);
        for (const n of ["", ...names]) health.setStatus(n, "NOT_SERVING");
        const timer = setTimeout(() => server.forceShutdown(), graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
