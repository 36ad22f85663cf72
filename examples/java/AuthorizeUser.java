import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.larkauth.lark.auth.v1.AuthEvent;
import com.larkauth.lark.auth.v1.AuthEventType;
import com.larkauth.lark.auth.v1.AuthServiceGrpc;
import com.larkauth.lark.auth.v1.AuthSession;
import com.larkauth.lark.auth.v1.AuthSessionState;
import com.larkauth.lark.auth.v1.GetUserAccessTokenRequest;
import com.larkauth.lark.auth.v1.StartAuthorizationRequest;
import com.larkauth.lark.auth.v1.TokenServiceGrpc;
import com.larkauth.lark.auth.v1.UserAccessToken;
import com.larkauth.lark.auth.v1.UserRef;
import com.larkauth.lark.auth.v1.WatchAuthEventsRequest;
import com.larkauth.lark.auth.v1.WatchAuthEventsResponse;
import google.rpc.ErrorDetails.ErrorInfo;
import google.rpc.ErrorDetails.RetryInfo;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Java service calling lark-auth-service: health, a refused call's structured error details, an
 * authorization watched to its end, the user's token, then the rate limit's RetryInfo.
 *
 * <p>Stubs are generated from the repository's proto/ with Debian's protoc and grpc_java_plugin, and
 * compiled against Debian's grpc-java, protobuf-java and netty jars (examples/java/build.sh). google.rpc's
 * Status, ErrorInfo and RetryInfo are generated from the vendored proto/google/rpc (package google.rpc);
 * with Maven, proto-google-common-protos has them as com.google.rpc. Configuration comes from the
 * environment: LARK_AUTH_GRPC (host:port, default 127.0.0.1:50051), LARK_AUTH_CALLER_KEY, LARK_APP_ID
 * (default: the sandbox app), LARK_USER_OPEN_ID, LARK_EMULATOR_URL (sandbox only: the emulator, whose
 * control API approves the consent so this runs unattended) and LARK_RATE_LIMIT_OPEN_ID (optional: a
 * user asked again and again until the rate limit answers).
 */
public final class AuthorizeUser {
  private static final List<String> SCOPES = List.of("docx:document:readonly");
  private static final Metadata.Key<byte[]> STATUS_DETAILS =
      Metadata.Key.of("grpc-status-details-bin", Metadata.BINARY_BYTE_MARSHALLER);

  private static final String APP_ID = env("LARK_APP_ID", "cli_5a4db0c0a11ce001");
  private static final String OPEN_ID = required("LARK_USER_OPEN_ID");
  private static final String EMULATOR = env("LARK_EMULATOR_URL", "");
  private static final String RATE_LIMIT_OPEN_ID = env("LARK_RATE_LIMIT_OPEN_ID", "");

  /** What a caller branches on: the code, ErrorInfo.reason (never the message) and RetryInfo. */
  record Refusal(Status.Code code, String reason, Duration retryDelay) {}

  /** Reads the google.rpc.Status details the service sends in grpc-status-details-bin. */
  static Refusal refusalOf(StatusRuntimeException err) throws InvalidProtocolBufferException {
    String reason = "";
    Duration retryDelay = Duration.ZERO;
    byte[] bytes = err.getTrailers() == null ? null : err.getTrailers().get(STATUS_DETAILS);
    if (bytes != null) {
      for (Any detail : google.rpc.StatusOuterClass.Status.parseFrom(bytes).getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          reason = detail.unpack(ErrorInfo.class).getReason();
        } else if (detail.is(RetryInfo.class)) {
          var delay = detail.unpack(RetryInfo.class).getRetryDelay();
          retryDelay = Duration.ofSeconds(delay.getSeconds(), delay.getNanos());
        }
      }
    }
    return new Refusal(err.getStatus().getCode(), reason, retryDelay);
  }

  public static void main(String[] args) throws Exception {
    String target = env("LARK_AUTH_GRPC", "127.0.0.1:50051");
    // Plaintext, as the sandbox serves; a real deployment puts TLS in front (drop usePlaintext).
    ManagedChannel channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      run(channel);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  static void run(ManagedChannel channel) throws Exception {
    var health =
        HealthGrpc.newBlockingStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance());
    System.out.println("health: " + health.getStatus());

    // Every call but health carries the caller key; the key is never printed.
    Metadata key = new Metadata();
    key.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
        "Bearer " + required("LARK_AUTH_CALLER_KEY"));
    var auth =
        AuthServiceGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(key));
    var tokens =
        TokenServiceGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(key));
    UserRef user = UserRef.newBuilder().setOpenId(OPEN_ID).build();

    // A refused call: no grant yet. Branch on ErrorInfo.reason, never on the message.
    try {
      tokens
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .getUserAccessToken(
              GetUserAccessTokenRequest.newBuilder().setAppId(APP_ID).setUser(user).build());
      System.out.println("the user is already authorized");
    } catch (StatusRuntimeException err) {
      Refusal refusal = refusalOf(err);
      System.out.println("refused: " + refusal);
      check(
          refusal.code() == Status.Code.FAILED_PRECONDITION
              && List.of("AUTHORIZATION_REQUIRED", "INSUFFICIENT_SCOPE").contains(refusal.reason()),
          "unexpected refusal " + refusal);
    }

    AuthSession session =
        auth.withDeadlineAfter(10, TimeUnit.SECONDS)
            .startAuthorization(
                StartAuthorizationRequest.newBuilder()
                    .setAppId(APP_ID)
                    .setUser(user)
                    .addAllScopes(SCOPES)
                    .setForce(true)
                    .setIdempotencyKey("java-example-" + ProcessHandle.current().pid())
                    .build())
            .getSession();
    System.out.println("session: " + session.getSessionId() + " " + session.getState());

    AuthSession outcome = watch(auth, session);
    check(
        outcome.getState() == AuthSessionState.AUTH_SESSION_STATE_AUTHORIZED,
        "the session ended " + outcome.getState() + " " + outcome.getFailureReason());
    System.out.println(
        "authorized: " + outcome.getIdentity().getName() + " " + outcome.getIdentity().getOpenId());

    UserAccessToken token =
        tokens
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .getUserAccessToken(
                GetUserAccessTokenRequest.newBuilder()
                    .setAppId(APP_ID)
                    .setUser(user)
                    .addAllRequiredScopes(SCOPES)
                    .build())
            .getToken();
    // The token is a secret: say what it is, never what it says.
    System.out.println(
        "token: "
            + token.getAccessToken().length()
            + " characters, expires "
            + Instant.ofEpochSecond(token.getExpireTime().getSeconds())
            + ", scopes "
            + token.getScopesList());

    if (!RATE_LIMIT_OPEN_ID.isEmpty()) showRateLimit(auth);
  }

  /**
   * Follows the session's events from the oldest retained one (nothing is missed, even the first)
   * until it reaches a final state, approving as the user when the emulator is at hand.
   */
  static AuthSession watch(AuthServiceGrpc.AuthServiceBlockingStub auth, AuthSession session)
      throws Exception {
    // A blocking stream is ended early by cancelling the context it runs in.
    try (Context.CancellableContext watching = Context.current().withCancellation()) {
      return watching.call(
          () -> {
            Iterator<WatchAuthEventsResponse> events =
                auth.withDeadlineAfter(120, TimeUnit.SECONDS)
                    .watchAuthEvents(
                        WatchAuthEventsRequest.newBuilder()
                            .setAppId(APP_ID)
                            .setSessionId(session.getSessionId())
                            .setFromOldest(true)
                            .build());
            while (events.hasNext()) {
              WatchAuthEventsResponse message = events.next();
              if (!message.hasEvent()) continue; // a bookmark: progress, not an event
              AuthEvent event = message.getEvent();
              System.out.println("event: " + event.getType());
              if (event.getType() == AuthEventType.AUTH_EVENT_TYPE_SESSION_CREATED) {
                if (EMULATOR.isEmpty()) {
                  System.out.println("waiting for the user to approve the card in Lark");
                } else {
                  approve(event.getSession().getAuthorizeUrl());
                }
              }
              AuthSessionState state = event.getSession().getState();
              if (state != AuthSessionState.AUTH_SESSION_STATE_PENDING
                  && state != AuthSessionState.AUTH_SESSION_STATE_UNSPECIFIED) {
                return event.getSession();
              }
            }
            throw new IllegalStateException("the event stream ended before the session did");
          });
    }
  }

  /** StartAuthorization is rate limited per user: RESOURCE_EXHAUSTED says when to retry (RetryInfo). */
  static void showRateLimit(AuthServiceGrpc.AuthServiceBlockingStub auth) throws Exception {
    UserRef user = UserRef.newBuilder().setOpenId(RATE_LIMIT_OPEN_ID).build();
    for (int i = 0; i < 20; i++) {
      // Each start asks for one more scope, so each is a new session (an identical one would be reused).
      List<String> scopes = new ArrayList<>(SCOPES);
      scopes.add("example:scope:" + i);
      try {
        auth.withDeadlineAfter(10, TimeUnit.SECONDS)
            .startAuthorization(
                StartAuthorizationRequest.newBuilder()
                    .setAppId(APP_ID)
                    .setUser(user)
                    .addAllScopes(scopes)
                    .build());
      } catch (StatusRuntimeException err) {
        Refusal refusal = refusalOf(err);
        System.out.println("refused: " + refusal);
        check(
            refusal.code() == Status.Code.RESOURCE_EXHAUSTED && !refusal.retryDelay().isZero(),
            "unexpected refusal " + refusal);
        return;
      }
    }
    throw new IllegalStateException("the rate limit never answered");
  }

  /**
   * Be the user, in the sandbox only: open the card's Authorize link, approve on Lark's consent page
   * through the emulator's control API, follow the redirect back to the service.
   */
  static void approve(String authorizeUrl) throws Exception {
    HttpClient browser =
        HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    var link = browser.send(get(authorizeUrl), HttpResponse.BodyHandlers.discarding());
    check(link.statusCode() == 302, "the authorize link answered " + link.statusCode());
    JsonObject decision = new JsonObject();
    decision.addProperty("url", link.headers().firstValue("location").orElseThrow());
    decision.addProperty("open_id", OPEN_ID);
    decision.addProperty("decision", "approve");
    var decided =
        browser.send(
            HttpRequest.newBuilder(URI.create(EMULATOR + "/_emulator/oauth/decide"))
                .timeout(Duration.ofSeconds(10))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(decision.toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    check(decided.statusCode() == 200, "the consent page answered " + decided.body());
    String redirect = JsonParser.parseString(decided.body()).getAsJsonObject().get("redirect_url").getAsString();
    var callback = browser.send(get(redirect), HttpResponse.BodyHandlers.discarding());
    check(callback.statusCode() == 200, "the OAuth callback answered " + callback.statusCode());
  }

  private static HttpRequest get(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build();
  }

  private static void check(boolean ok, String message) {
    if (!ok) throw new IllegalStateException(message);
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null ? fallback : value;
  }

  private static String required(String name) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) throw new IllegalStateException(name + " is not set");
    return value;
  }
}
