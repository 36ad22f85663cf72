#!/usr/bin/env bash
# The production build, as the image runs it: compiles to dist/, installs production dependencies only into a
# scratch directory (like the Dockerfile's runtime stage), starts the compiled service in sandbox mode and checks
# health, readiness, one RPC on each port, and a clean exit on SIGTERM. Run by .ci/run so the build cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."
node=$PWD/node_modules/.bin/node   # the pinned Node 24, as in the image

npm run build
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cp -r dist package.json package-lock.json "$work/"
(cd "$work" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
if [ -e "$work/node_modules/typescript" ] || [ -e "$work/node_modules/vitest" ]; then
  echo "dev dependencies leaked into the production install" >&2; exit 1
fi

key=lak_smoke_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
(cd "$work" && LARK_AUTH_DATA_DIR="$work/data" LARK_AUTH_DEV_CALLER_KEY="$key" LARK_AUTH_GRPC_PORT=0 \
  LARK_AUTH_HTTP_PORT=0 LARK_AUTH_EMULATOR_PORT=0 NODE_ENV=production \
  exec "$node" --enable-source-maps dist/src/main.js >"$work/out.log" 2>&1) &
pid=$!

for _ in $(seq 1 120); do
  grep -q '"msg":"lark-auth-service listening"' "$work/out.log" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/out.log"; echo "the compiled service exited during start-up" >&2; exit 1; }
  sleep 0.5
done
line=$(grep '"msg":"lark-auth-service listening"' "$work/out.log") || { cat "$work/out.log"; exit 1; }
http=$(sed -E 's/.*"http_port":([0-9]+).*/\1/' <<<"$line")
grpc=$(sed -E 's/.*"grpc_port":([0-9]+).*/\1/' <<<"$line")
echo "compiled service up: gRPC $grpc, HTTP $http"

curl -fsS "http://127.0.0.1:$http/healthz" >/dev/null
for _ in $(seq 1 40); do curl -fsS "http://127.0.0.1:$http/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fsS "http://127.0.0.1:$http/readyz"; echo
# One RPC over Connect JSON (HTTP port) ...
curl -fsS -H "authorization: Bearer $key" -H 'content-type: application/json' \
  -d '{"app_id":"cli_5a4db0c0a11ce001"}' \
  "http://127.0.0.1:$http/lark.auth.v1.AuthService/ListAuthSessions"; echo
# ... and gRPC health on the gRPC port (what Kubernetes' native probes call).
npx buf curl --protocol grpc --http2-prior-knowledge \
  -d '{"service":"lark.auth.v1.AuthService"}' "http://127.0.0.1:$grpc/grpc.health.v1.Health/Check"

kill -TERM "$pid"
status=0; wait "$pid" || status=$?
pid=
if [ "$status" -ne 0 ]; then cat "$work/out.log"; echo "exit status $status after SIGTERM" >&2; exit 1; fi
echo "compiled build: started, served, stopped cleanly"
