#!/usr/bin/env bash
# The same walk as the Python, Go and Java callers, with no generated code at all: `buf curl` over gRPC
# (schema from server reflection), plain curl speaking Connect JSON over HTTP/1.1, jq, and Debian's
# protoc to read the binary error details. The README's "Calling it from another language" section
# copies its commands from here, and examples/run.sh runs it in CI. Configuration, as for the others:
#   LARK_AUTH_GRPC, LARK_AUTH_HTTP (host:port of the two ports), LARK_AUTH_CALLER_KEY, LARK_APP_ID,
#   LARK_USER_OPEN_ID, LARK_EMULATOR_URL (sandbox only: approves the consent through the emulator),
#   LARK_RATE_LIMIT_OPEN_ID (optional: a user asked again and again until the rate limit answers).
set -euo pipefail
cd "$(dirname "$0")/.."
GRPC=$LARK_AUTH_GRPC HTTP=$LARK_AUTH_HTTP KEY=$LARK_AUTH_CALLER_KEY APP=$LARK_APP_ID USER_ID=$LARK_USER_OPEN_ID
fail() { echo "examples/shell.sh: $*" >&2; exit 1; }
# detail TYPE: a Connect JSON error's detail of that google.rpc type, decoded (base64 is sent unpadded).
detail() {
  jq -r --arg type "$1" '.details[] | select(.type == $type) | .value | . + "=" * ((4 - length % 4) % 4)' |
    base64 -d | protoc -I proto --decode "$1" google/rpc/error_details.proto
}

# 1. gRPC with buf curl: health, then the services, both from reflection (no .proto files needed).
npx buf curl --protocol grpc --http2-prior-knowledge "http://$GRPC/grpc.health.v1.Health/Check"
npx buf curl --protocol grpc --http2-prior-knowledge --list-methods "http://$GRPC" | grep lark.auth.v1.TokenService/

# 2. Connect JSON with curl: a refused call answers 4xx with {code, message, details}. Each detail is
#    a google.rpc message, base64 (unpadded) protobuf: protoc decodes it with the vendored schema.
refused=$(curl -sS -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d "{\"app_id\":\"$APP\",\"user\":{\"open_id\":\"$USER_ID\"}}" \
  "http://$HTTP/lark.auth.v1.TokenService/GetUserAccessToken")
echo "$refused" | jq -c '{code, types: [.details[].type]}'
info=$(echo "$refused" | detail google.rpc.ErrorInfo)
echo "$info"
grep -q 'reason: "AUTHORIZATION_REQUIRED"' <<<"$info" || fail "no AUTHORIZATION_REQUIRED reason"

# 3. Start an authorization (Connect JSON); the answer names the session and its Authorize link.
session=$(curl -sS --fail-with-body -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
  -d "{\"app_id\":\"$APP\",\"user\":{\"open_id\":\"$USER_ID\"},\"scopes\":[\"docx:document:readonly\"],\"force\":true}" \
  "http://$HTTP/lark.auth.v1.AuthService/StartAuthorization" | jq -c .session)
session_id=$(echo "$session" | jq -r .sessionId)
echo "session: $session_id $(echo "$session" | jq -r .state)"

# 4. Sandbox only: be the user. Open the link, approve on the emulator's consent page, follow the redirect.
consent=$(curl -sS -o /dev/null -w '%{redirect_url}' "$(echo "$session" | jq -r .authorizeUrl)")
callback=$(curl -sS --fail-with-body -H 'content-type: application/json' \
  -d "{\"url\":\"$consent\",\"open_id\":\"$USER_ID\",\"decision\":\"approve\"}" \
  "$LARK_EMULATOR_URL/_emulator/oauth/decide" | jq -r .redirect_url)
curl -sS --fail -o /dev/null "$callback"

# 5. The session's events over gRPC (a server stream, open until its deadline: buf curl's --timeout).
events=$(npx buf curl --timeout 5s --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $KEY" \
  -d "{\"app_id\":\"$APP\",\"session_id\":\"$session_id\",\"from_oldest\":true}" \
  "http://$GRPC/lark.auth.v1.AuthService/WatchAuthEvents" 2>/dev/null || true)
echo "$events" | jq -c 'select(.event) | .event.type'
echo "$events" | jq -se 'any(.[]; .event.type == "AUTH_EVENT_TYPE_AUTHORIZED")' >/dev/null || fail "no AUTHORIZED event"

# 6. The user's token, over gRPC with buf curl. It is a secret: show what it is, never what it says.
npx buf curl --protocol grpc --http2-prior-knowledge -H "authorization: Bearer $KEY" \
  -d "{\"app_id\":\"$APP\",\"user\":{\"open_id\":\"$USER_ID\"},\"required_scopes\":[\"docx:document:readonly\"]}" \
  "http://$GRPC/lark.auth.v1.TokenService/GetUserAccessToken" |
  jq -ce '.token | {length: (.accessToken | length), expireTime, scopes}'

# 7. StartAuthorization is rate limited per user: RESOURCE_EXHAUSTED (HTTP 429) says when to retry.
if [ -n "${LARK_RATE_LIMIT_OPEN_ID:-}" ]; then
  for i in $(seq 1 20); do
    # Each start asks for another scope, so each is a new session (an identical one would be reused).
    limited=$(curl -sS -H "authorization: Bearer $KEY" -H 'content-type: application/json' \
      -d "{\"app_id\":\"$APP\",\"user\":{\"open_id\":\"$LARK_RATE_LIMIT_OPEN_ID\"},\"scopes\":[\"example:scope:$i\"]}" \
      "http://$HTTP/lark.auth.v1.AuthService/StartAuthorization")
    [ "$(echo "$limited" | jq -r '.code // empty')" = resource_exhausted ] && break
  done
  echo "$limited" | jq -c '{code, types: [.details[].type]}'
  retry=$(echo "$limited" | detail google.rpc.RetryInfo)
  echo "$retry"
  grep -q 'retry_delay' <<<"$retry" || fail "no RetryInfo"
fi
