#!/usr/bin/env python3
"""A Python service calling lark-auth-service: health, a refused call's structured error details,
an authorization watched to its end, then the user's token.

Stubs are generated from the repository's proto/ (see examples/run.sh, or the README):
    protoc -I proto --python_out=GEN --grpc_python_out=GEN \
        --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
        proto/lark/auth/v1/*.proto proto/google/rpc/*.proto
    protoc -I proto/grpc/health/v1 --python_out=GEN --grpc_python_out=GEN \
        --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin health.proto
and put on PYTHONPATH (Debian's python3-grpcio and python3-protobuf for /usr/bin/python3). Configuration comes from the environment:
    LARK_AUTH_GRPC        host:port of the gRPC port         (default 127.0.0.1:50051)
    LARK_AUTH_CALLER_KEY  the caller key (the sandbox prints its dev key)
    LARK_APP_ID           the Lark app                       (default: the sandbox app)
    LARK_USER_OPEN_ID     the user to authorize
    LARK_EMULATOR_URL     sandbox only: the emulator, whose control API approves the consent so this
                          runs unattended; without it a person approves the card in Lark.
"""

import http.client
import json
import os
import sys
import urllib.parse

import grpc
from google.rpc import error_details_pb2, status_pb2
import health_pb2  # grpc.health.v1, generated as top-level modules (grpcio owns the `grpc` package)
import health_pb2_grpc
from lark.auth.v1 import auth_service_pb2, auth_service_pb2_grpc, token_service_pb2, token_service_pb2_grpc, types_pb2

TARGET = os.environ.get("LARK_AUTH_GRPC", "127.0.0.1:50051")
CALLER_KEY = os.environ["LARK_AUTH_CALLER_KEY"]
APP_ID = os.environ.get("LARK_APP_ID", "cli_5a4db0c0a11ce001")
OPEN_ID = os.environ["LARK_USER_OPEN_ID"]
EMULATOR = os.environ.get("LARK_EMULATOR_URL", "")
# Optional: a second user, asked again and again until the per-user rate limit answers with RetryInfo.
RATE_LIMIT_OPEN_ID = os.environ.get("LARK_RATE_LIMIT_OPEN_ID", "")
SCOPES = ["docx:document:readonly"]
FINAL = {types_pb2.AUTH_SESSION_STATE_AUTHORIZED, types_pb2.AUTH_SESSION_STATE_DECLINED,
         types_pb2.AUTH_SESSION_STATE_EXPIRED, types_pb2.AUTH_SESSION_STATE_FAILED,
         types_pb2.AUTH_SESSION_STATE_CANCELLED}

# Every call but health carries the caller key; the key is never printed.
AUTH = (("authorization", f"Bearer {CALLER_KEY}"),)


def error_details(err: grpc.RpcError) -> dict:
    """The google.rpc.Status details the service sends in grpc-status-details-bin."""
    found = {"code": err.code().name, "reason": "", "retry_delay_s": None}
    for key, value in err.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                found["reason"] = info.reason
            elif detail.Unpack(retry):
                found["retry_delay_s"] = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    return found


def http_call(method: str, url: str, body: dict | None = None) -> tuple[int, str, str]:
    """One HTTP request, redirects not followed: the status, the Location header and the body."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"content-type": "application/json"})
    res = conn.getresponse()
    text = res.read().decode()
    conn.close()
    return res.status, res.getheader("location", ""), text


def approve(authorize_url: str) -> None:
    """Be the user: open the card's Authorize link, approve on Lark's consent page, follow the redirect back."""
    status, location, _ = http_call("GET", authorize_url)
    assert status == 302, f"the authorize link answered {status}"
    _, _, text = http_call("POST", f"{EMULATOR}/_emulator/oauth/decide",
                           {"url": location, "open_id": OPEN_ID, "decision": "approve"})
    status, _, _ = http_call("GET", json.loads(text)["redirect_url"])
    assert status == 200, f"the OAuth callback answered {status}"


def main() -> int:
    channel = grpc.insecure_channel(TARGET)
    user = types_pb2.UserRef(open_id=OPEN_ID)

    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    print("health:", health_pb2.HealthCheckResponse.ServingStatus.Name(health.status))
    auth = auth_service_pb2_grpc.AuthServiceStub(channel)
    tokens = token_service_pb2_grpc.TokenServiceStub(channel)

    # A refused call: no grant yet. Branch on ErrorInfo.reason, never on the message.
    try:
        tokens.GetUserAccessToken(token_service_pb2.GetUserAccessTokenRequest(app_id=APP_ID, user=user),
                                  metadata=AUTH, timeout=10)
        print("the user is already authorized")
    except grpc.RpcError as err:
        details = error_details(err)
        print("refused:", details)
        assert details["reason"] in ("AUTHORIZATION_REQUIRED", "INSUFFICIENT_SCOPE"), details

    started = auth.StartAuthorization(
        auth_service_pb2.StartAuthorizationRequest(app_id=APP_ID, user=user, scopes=SCOPES, force=True,
                                                   idempotency_key=f"python-example-{os.getpid()}"),
        metadata=AUTH, timeout=10)
    session = started.session
    print("session:", session.session_id, types_pb2.AuthSessionState.Name(session.state))

    # Watch the session's events from the oldest retained one: nothing is missed, even the first.
    events = auth.WatchAuthEvents(
        auth_service_pb2.WatchAuthEventsRequest(app_id=APP_ID, session_id=session.session_id, from_oldest=True),
        metadata=AUTH, timeout=120)
    outcome = None
    for message in events:
        if message.WhichOneof("kind") != "event":
            continue
        event = message.event
        print("event:", types_pb2.AuthEventType.Name(event.type))
        if event.type == types_pb2.AUTH_EVENT_TYPE_SESSION_CREATED:
            if EMULATOR:
                approve(event.session.authorize_url)
            else:
                print("waiting for the user to approve the card in Lark")
        if event.session.state in FINAL:
            outcome = event.session
            events.cancel()
            break
    assert outcome is not None and outcome.state == types_pb2.AUTH_SESSION_STATE_AUTHORIZED, outcome
    print("authorized:", outcome.identity.name, outcome.identity.open_id)

    token = tokens.GetUserAccessToken(
        token_service_pb2.GetUserAccessTokenRequest(app_id=APP_ID, user=user, required_scopes=SCOPES),
        metadata=AUTH, timeout=10).token
    # The token is a secret: say what it is, never what it says.
    print(f"token: {len(token.access_token)} characters, expires {token.expire_time.ToJsonString()},"
          f" scopes {list(token.scopes)}")

    if RATE_LIMIT_OPEN_ID:
        show_rate_limit(auth)
    return 0


def show_rate_limit(auth: auth_service_pb2_grpc.AuthServiceStub) -> None:
    """StartAuthorization is rate limited per user: RESOURCE_EXHAUSTED says when to retry (RetryInfo)."""
    for i in range(20):
        # Each start asks for one more scope, so each is a new session (an identical one would be reused).
        request = auth_service_pb2.StartAuthorizationRequest(
            app_id=APP_ID, user=types_pb2.UserRef(open_id=RATE_LIMIT_OPEN_ID), scopes=[*SCOPES, f"example:scope:{i}"])
        try:
            auth.StartAuthorization(request, metadata=AUTH, timeout=10)
        except grpc.RpcError as err:
            details = error_details(err)
            print("refused:", details)
            assert details["code"] == "RESOURCE_EXHAUSTED" and details["retry_delay_s"], details
            return
    raise AssertionError("the rate limit never answered")


if __name__ == "__main__":
    sys.exit(main())
