#!/usr/bin/env bash
# Builds the Java caller offline, from Debian's packages only:
#   examples/java/build.sh WORK_DIR LAUNCHER
# default-jdk-headless, protobuf-compiler, protobuf-compiler-grpc-java-plugin, libgrpc-java,
# libprotobuf-java, libnetty-java, libperfmark-java, libgoogle-gson-java, libanimal-sniffer-java and, at
# compile time only, libgeronimo-annotation-1.3-spec-java (the stubs carry @javax.annotation.Generated,
# which Java 11 and later no longer ship). The stubs are generated from proto/ into WORK_DIR (nothing
# generated is committed); LAUNCHER is a script that runs the example with its classpath.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$1 launcher=$2

jars=/usr/share/java
classpath=$(printf "$jars/%s.jar:" \
  grpc-api grpc-context grpc-core grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub \
  protobuf guava gson perfmark-api error_prone_annotations animal-sniffer-annotations \
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-codec-socks netty-common \
  netty-handler netty-handler-proxy netty-resolver netty-transport)

mkdir -p "$work/src" "$work/classes"
# google.rpc (Status, ErrorInfo, RetryInfo) from the vendored copies; grpc.health.v1 is not in Debian's
# grpc-java (it lives in grpc-services), so it is generated too.
protoc -I proto --java_out="$work/src" --grpc-java_out="$work/src" \
  --plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin \
  proto/lark/auth/v1/*.proto proto/google/rpc/*.proto proto/grpc/health/v1/health.proto
find "$work/src" -name '*.java' >"$work/sources"
javac -nowarn -encoding UTF-8 -d "$work/classes" -cp "$classpath$jars/geronimo-annotation-1.3-spec.jar" \
  @"$work/sources" examples/java/AuthorizeUser.java

printf '#!/bin/sh\nexec java -cp %q AuthorizeUser "$@"\n' "$classpath$work/classes" >"$launcher"
chmod +x "$launcher"
