#!/usr/bin/env bash
# Builds the Go caller offline, from Debian's packages only:
#   examples/go/build.sh WORK_DIR BINARY
# golang-go, protoc-gen-go, protoc-gen-go-grpc, golang-google-grpc-dev and golang-google-genproto-dev
# (the last two put grpc-go, google.golang.org/protobuf and genproto under /usr/share/gocode).
# The lark.auth.v1 stubs are generated from proto/ into WORK_DIR/gopath (nothing generated is committed),
# and the example is built in GOPATH mode against that and /usr/share/gocode: no go.mod, so no module
# download is ever tried (GOPROXY=off makes sure).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$1 binary=$2

gopath="$work/gopath"
mkdir -p "$gopath/src"
# go_package in the .proto files names the import path; protoc-gen-go writes the files under it.
protoc -I proto --go_out="$gopath/src" --go-grpc_out="$gopath/src" proto/lark/auth/v1/*.proto

GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOPROXY=off GOFLAGS= \
  go build -o "$binary" ./examples/go
