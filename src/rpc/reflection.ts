import { type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";

function collect(file: DescFile, into: Map<string, DescFile>): void {
  if (into.has(file.name)) return;
  for (const dep of file.dependencies) collect(dep, into);
  into.set(file.name, file);
}

/**
 * Serves gRPC server reflection (v1 and v1alpha) from the descriptors embedded in gen/,
 * so grpcurl and buf curl work without the .proto files and nothing can drift from them.
 */
export function addReflection(
  server: grpc.Server,
  files: readonly DescFile[],
  services: readonly string[],
): void {
  const all = new Map<string, DescFile>();
  for (const f of files) collect(f, all);
  const fileDescriptorProtos = [...all.values()].map((f) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)),
  );
  const pkg = { descriptors: { format: "Protocol Buffer 3 FileDescriptorProto", fileDescriptorProtos } };
  new ReflectionService(pkg as never, { services: [...services] }).addToServer(server);
}
