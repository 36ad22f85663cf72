#!/usr/bin/env bash
# Runs the caller examples against a freshly started sandbox service, as CI does:
#   examples/run.sh [python] [go] [java] [shell]      (all when none is named)
# Generates each language's stubs from proto/ into a temporary directory (nothing generated is
# committed), starts `npm start` in sandbox mode on free ports with its own data dir, waits for
# /readyz, runs each example, and stops the service whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
langs=("$@")
[ ${#langs[@]} -gt 0 ] || langs=(python go java shell)

work=$(mktemp -d)
service_pid=""
stop() {
  if [ -n "$service_pid" ] && kill -0 "$service_pid" 2>/dev/null; then
    kill -TERM "$service_pid" && wait "$service_pid" || true
  fi
  rm -rf "$work"
}
trap stop EXIT

# Debian's Python, the one python3-grpcio and python3-protobuf are installed for (not a pyenv shim).
py=/usr/bin/python3
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
grpc_port=$(free_port); http_port=$(free_port); emulator_port=$(free_port)
caller_key="lak_examples_$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)"

# Only what sandbox mode needs: nothing from the caller's environment (DATABASE_URL, LARK_*) leaks in.
env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
  LARK_AUTH_SANDBOX=1 LARK_AUTH_DATA_DIR="$work/data" LARK_AUTH_LOG_LEVEL=warn \
  LARK_AUTH_GRPC_PORT="$grpc_port" LARK_AUTH_HTTP_PORT="$http_port" LARK_AUTH_EMULATOR_PORT="$emulator_port" \
  LARK_AUTH_DEV_CALLER_KEY="$caller_key" \
  node_modules/.bin/node --import tsx src/main.ts >"$work/service.log" 2>&1 &
service_pid=$!

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1; then break; fi
  kill -0 "$service_pid" 2>/dev/null || { cat "$work/service.log"; echo "the service exited" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null || { cat "$work/service.log"; exit 1; }

emulator="http://127.0.0.1:$emulator_port"
# Each example gets users of its own, made through the emulator's control API, so that one example's
# grant or exhausted rate limit never meets another's.
new_user() {
  curl -fsS -H 'content-type: application/json' \
    -d "{\"name\":\"$1\",\"email\":\"$1@sandbox.example\",\"seed\":\"$1\",\"app_id\":\"$LARK_APP_ID\"}" \
    "$emulator/_emulator/users" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["open_id"])'
}
export LARK_AUTH_GRPC="127.0.0.1:$grpc_port" LARK_AUTH_HTTP="127.0.0.1:$http_port" LARK_AUTH_CALLER_KEY="$caller_key" LARK_APP_ID=cli_5a4db0c0a11ce001
export LARK_EMULATOR_URL="$emulator" LARK_USER_OPEN_ID LARK_RATE_LIMIT_OPEN_ID
protos=(proto/lark/auth/v1/*.proto proto/google/rpc/*.proto)

for lang in "${langs[@]}"; do
  LARK_USER_OPEN_ID=$(new_user "$lang-caller") LARK_RATE_LIMIT_OPEN_ID=$(new_user "$lang-limits")
  case "$lang" in
    python)
      mkdir -p "$work/py"
      plugin=--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin
      protoc -I proto --python_out="$work/py" --grpc_python_out="$work/py" "$plugin" "${protos[@]}"
      # grpc/health/v1 would land inside grpcio's own `grpc` package: health gets top-level modules.
      protoc -I proto/grpc/health/v1 --python_out="$work/py" --grpc_python_out="$work/py" "$plugin" health.proto
      echo "==> examples/python"
      PYTHONPATH="$work/py" "$py" examples/python/authorize_user.py
      ;;
    go)
      examples/go/build.sh "$work/go" "$work/authorize-user"
      echo "==> examples/go"
      "$work/authorize-user"
      ;;
    java)
      examples/java/build.sh "$work/java" "$work/authorize-user-java"
      echo "==> examples/java"
      "$work/authorize-user-java"
      ;;
    shell)
      echo "==> examples/shell.sh"
      examples/shell.sh
      ;;
    *) echo "unknown example: $lang" >&2; exit 2 ;;
  esac
done
