import * as grpc from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";

/** A serving status as grpc.health.v1 names it. */
export type HealthStatus = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

type HealthResponse = { status: HealthStatus | number };
type HealthClient = grpc.Client & {
  check(
    req: { service: string },
    opts: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: HealthResponse) => void,
  ): grpc.ClientUnaryCall;
  watch(req: { service: string }): grpc.ClientReadableStream<HealthResponse>;
};

const HealthClientCtor = grpc.makeGenericClientConstructor(healthService, "Health") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

function statusName(s: HealthStatus | number): HealthStatus {
  if (typeof s === "string") return s;
  return (["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const)[s] ?? "UNKNOWN";
}

/** A grpc.health.v1 client (as a load balancer or Kubernetes probe would use) for `host:port`. */
export function healthClient(address: string) {
  const client = new HealthClientCtor(address, grpc.credentials.createInsecure());
  return {
    /** One Check call; rejects with the grpc-js ServiceError when the call fails. */
    check(service = ""): Promise<HealthStatus> {
      return new Promise((resolve, reject) => {
        client.check({ service }, { deadline: Date.now() + 5000 }, (err, res) =>
          err || !res ? reject(err ?? new Error("no response")) : resolve(statusName(res.status)),
        );
      });
    },
    /** A Watch stream; every status it reports is pushed to `seen`. Cancel it with the returned call. */
    watch(service: string, seen: HealthStatus[]): grpc.ClientReadableStream<HealthResponse> {
      const call = client.watch({ service });
      call.on("data", (res: HealthResponse) => seen.push(statusName(res.status)));
      call.on("error", () => {});
      return call;
    },
    close: () => client.close(),
  };
}
