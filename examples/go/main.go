// Command authorize-user is a Go service calling lark-auth-service: health, a refused call's structured
// error details, an authorization watched to its end, the user's token, then the rate limit's RetryInfo.
//
// Stubs for lark.auth.v1 are generated from the repository's proto/ (examples/go/build.sh does it, with
// Debian's protoc-gen-go and protoc-gen-go-grpc):
//
//	protoc -I proto --go_out=GOPATH/src --go-grpc_out=GOPATH/src proto/lark/auth/v1/*.proto
//
// google.rpc's ErrorInfo and RetryInfo come from genproto's errdetails and grpc.health.v1 from grpc-go
// itself: generating them again would register the same protobuf names twice. Configuration comes from
// the environment:
//
//	LARK_AUTH_GRPC           host:port of the gRPC port       (default 127.0.0.1:50051)
//	LARK_AUTH_CALLER_KEY     the caller key (the sandbox prints its dev key)
//	LARK_APP_ID              the Lark app                     (default: the sandbox app)
//	LARK_USER_OPEN_ID        the user to authorize
//	LARK_EMULATOR_URL        sandbox only: the emulator, whose control API approves the consent so this
//	                         runs unattended; without it a person approves the card in Lark.
//	LARK_RATE_LIMIT_OPEN_ID  optional: a user asked again and again until the rate limit answers.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	authv1 "github.com/lark-auth-service/lark-auth-service/gen/go/lark/auth/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

var scopes = []string{"docx:document:readonly"}

type config struct {
	target, callerKey, appID, openID, emulator, rateLimitOpenID string
}

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return fallback
}

func mustEnv(name string) string {
	v := os.Getenv(name)
	if v == "" {
		fail("%s is not set", name)
	}
	return v
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "authorize-user: "+format+"\n", args...)
	os.Exit(1)
}

// refusal is what a caller branches on: the code, ErrorInfo.reason (never the message) and RetryInfo.
type refusal struct {
	Code       codes.Code
	Reason     string
	RetryDelay time.Duration
}

// refusalOf reads the google.rpc.Status details the service sends in grpc-status-details-bin.
func refusalOf(err error) refusal {
	s := status.Convert(err)
	r := refusal{Code: s.Code()}
	for _, detail := range s.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			r.Reason = d.Reason
		case *errdetails.RetryInfo:
			r.RetryDelay = d.RetryDelay.AsDuration()
		}
	}
	return r
}

// call carries the caller key on every call but health, and a deadline on each; the key is never printed.
func (c config) call(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.callerKey), cancel
}

func main() {
	cfg := config{
		target:          env("LARK_AUTH_GRPC", "127.0.0.1:50051"),
		callerKey:       mustEnv("LARK_AUTH_CALLER_KEY"),
		appID:           env("LARK_APP_ID", "cli_5a4db0c0a11ce001"),
		openID:          mustEnv("LARK_USER_OPEN_ID"),
		emulator:        env("LARK_EMULATOR_URL", ""),
		rateLimitOpenID: env("LARK_RATE_LIMIT_OPEN_ID", ""),
	}
	// Plaintext, as the sandbox serves; a real deployment puts TLS in front (grpc.WithTransportCredentials).
	conn, err := grpc.Dial(cfg.target, grpc.WithInsecure())
	if err != nil {
		fail("dial %s: %v", cfg.target, err)
	}
	defer conn.Close()

	checkHealth(conn)
	auth, tokens := authv1.NewAuthServiceClient(conn), authv1.NewTokenServiceClient(conn)
	user := &authv1.UserRef{Id: &authv1.UserRef_OpenId{OpenId: cfg.openID}}
	showRefusal(cfg, tokens, user)
	session := start(cfg, auth, user)
	outcome := watch(cfg, auth, session)
	if outcome.GetState() != authv1.AuthSessionState_AUTH_SESSION_STATE_AUTHORIZED {
		fail("the session ended %v (%s)", outcome.GetState(), outcome.GetFailureReason())
	}
	fmt.Println("authorized:", outcome.GetIdentity().GetName(), outcome.GetIdentity().GetOpenId())
	showToken(cfg, tokens, user)
	if cfg.rateLimitOpenID != "" {
		showRateLimit(cfg, auth)
	}
}

func checkHealth(conn *grpc.ClientConn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	health, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		fail("health: %v", err)
	}
	fmt.Println("health:", health.GetStatus())
}

// showRefusal asks for a token before any grant exists: refused, with a reason to branch on.
func showRefusal(cfg config, tokens authv1.TokenServiceClient, user *authv1.UserRef) {
	ctx, cancel := cfg.call(10 * time.Second)
	defer cancel()
	_, err := tokens.GetUserAccessToken(ctx, &authv1.GetUserAccessTokenRequest{AppId: cfg.appID, User: user})
	if err == nil {
		fmt.Println("the user is already authorized")
		return
	}
	r := refusalOf(err)
	fmt.Printf("refused: code=%v reason=%s\n", r.Code, r.Reason)
	if r.Code != codes.FailedPrecondition || (r.Reason != "AUTHORIZATION_REQUIRED" && r.Reason != "INSUFFICIENT_SCOPE") {
		fail("unexpected refusal %+v", r)
	}
}

func start(cfg config, auth authv1.AuthServiceClient, user *authv1.UserRef) *authv1.AuthSession {
	ctx, cancel := cfg.call(10 * time.Second)
	defer cancel()
	started, err := auth.StartAuthorization(ctx, &authv1.StartAuthorizationRequest{
		AppId: cfg.appID, User: user, Scopes: scopes, Force: true,
		IdempotencyKey: fmt.Sprintf("go-example-%d", os.Getpid()),
	})
	if err != nil {
		fail("StartAuthorization: %+v", refusalOf(err))
	}
	session := started.GetSession()
	fmt.Println("session:", session.GetSessionId(), session.GetState())
	return session
}

// watch follows the session's events from the oldest retained one (nothing is missed, even the first)
// until it reaches a final state, approving as the user when the emulator is at hand.
func watch(cfg config, auth authv1.AuthServiceClient, session *authv1.AuthSession) *authv1.AuthSession {
	ctx, cancel := cfg.call(120 * time.Second)
	defer cancel() // ends the stream once the outcome is known
	stream, err := auth.WatchAuthEvents(ctx, &authv1.WatchAuthEventsRequest{
		AppId: cfg.appID, SessionId: session.GetSessionId(), FromOldest: true,
	})
	if err != nil {
		fail("WatchAuthEvents: %+v", refusalOf(err))
	}
	for {
		message, err := stream.Recv()
		if err != nil {
			fail("the event stream ended before the session did: %+v", refusalOf(err))
		}
		event := message.GetEvent()
		if event == nil {
			continue // a bookmark: progress, not an event
		}
		fmt.Println("event:", event.GetType())
		if event.GetType() == authv1.AuthEventType_AUTH_EVENT_TYPE_SESSION_CREATED {
			if cfg.emulator == "" {
				fmt.Println("waiting for the user to approve the card in Lark")
			} else if err := approve(cfg.emulator, cfg.openID, event.GetSession().GetAuthorizeUrl()); err != nil {
				fail("approving as the user: %v", err)
			}
		}
		if state := event.GetSession().GetState(); state != authv1.AuthSessionState_AUTH_SESSION_STATE_PENDING &&
			state != authv1.AuthSessionState_AUTH_SESSION_STATE_UNSPECIFIED {
			return event.GetSession()
		}
	}
}

func showToken(cfg config, tokens authv1.TokenServiceClient, user *authv1.UserRef) {
	ctx, cancel := cfg.call(10 * time.Second)
	defer cancel()
	res, err := tokens.GetUserAccessToken(ctx, &authv1.GetUserAccessTokenRequest{
		AppId: cfg.appID, User: user, RequiredScopes: scopes,
	})
	if err != nil {
		fail("GetUserAccessToken: %+v", refusalOf(err))
	}
	token := res.GetToken()
	// The token is a secret: say what it is, never what it says.
	fmt.Printf("token: %d characters, expires %s, scopes %v\n", len(token.GetAccessToken()),
		token.GetExpireTime().AsTime().Format(time.RFC3339), token.GetScopes())
}

// showRateLimit: StartAuthorization is rate limited per user, and RESOURCE_EXHAUSTED says when to retry.
func showRateLimit(cfg config, auth authv1.AuthServiceClient) {
	user := &authv1.UserRef{Id: &authv1.UserRef_OpenId{OpenId: cfg.rateLimitOpenID}}
	for i := 0; i < 20; i++ {
		// Each start asks for one more scope, so each is a new session (an identical one would be reused).
		ctx, cancel := cfg.call(10 * time.Second)
		_, err := auth.StartAuthorization(ctx, &authv1.StartAuthorizationRequest{
			AppId: cfg.appID, User: user, Scopes: append([]string{fmt.Sprintf("example:scope:%d", i)}, scopes...),
		})
		cancel()
		if err == nil {
			continue
		}
		r := refusalOf(err)
		fmt.Printf("refused: code=%v reason=%s retry_delay=%v\n", r.Code, r.Reason, r.RetryDelay)
		if r.Code != codes.ResourceExhausted || r.RetryDelay <= 0 {
			fail("unexpected refusal %+v", r)
		}
		return
	}
	fail("the rate limit never answered")
}
