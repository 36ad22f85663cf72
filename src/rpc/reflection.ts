import { type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";

function collect(file: DescFile, into: Map<string, DescFile>): void {
  if (into.has(file.name)) return;
  for (const dep of file.dependencies) collect(dep, into);
  into.set(file.name, file);
}

/**
 * Serves gRPC server reflection (v1 and v1alpha) from the descriptors embedded in gen/,
 * plus the health service, so grpcurl and buf curl work without the .proto files and
 * nothing can drift from them.
 */
export function addReflection(
  server: grpc.Server,
  files: readonly DescFile[],
  services: readonly string[],
): void {
  const all = new Map<string, DescFile>();
  for (const f of [...files, file_grpc_health_v1_health]) collect(f, all);
  const fileDescriptorProtos = [...all.values()].map((f) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)),
  );
  const pkg = { descriptors: { format: "Protocol Buffer 3 FileDescriptorProto", fileDescriptorProtos } };
  new ReflectionService(pkg as never, { services: [...services, "grpc.health.v1.Health"] }).addToServer(
    server,
  );
}
