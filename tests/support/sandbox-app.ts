// The service in sandbox mode as `npm start` runs it with nothing configured (the in-process emulator,
// the sandbox app, Alice and Bob), but on ports chosen at bind time (0), a temp data dir and a test
// database of its own. Everything a test does to the emulator goes through its HTTP control API, as a
// developer's script would: the test holds no handle on the emulator.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import type { AuthSession, AuthSessionState } from "../../gen/lark/auth/v1/types_pb.js";
import { AuthSessionState as S } from "../../gen/lark/auth/v1/types_pb.js";
import { type App, buildApp } from "../../src/app.js";
import { parseConfig, SANDBOX_APP_ID } from "../../src/config/index.js";
import type { MessageView } from "../../src/emulator/index.js";
import type { Database } from "../../src/store/database.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { FAST_JOBS, waitFor } from "./auth-flow.js";
import { createTestDatabase } from "./db.js";

export const DEV_CALLER_KEY = "lak_sandbox_test_dev_key_0000000000";

export interface SandboxApp {
  readonly app: App;
  /** The service's own database (for a test that moves a session's expiry into the past). */
  readonly db: Database;
  readonly emulatorUrl: string;
  /** Where browsers reach the HTTP port (the bound one). */
  readonly httpUrl: string;
  /** The demo user's open_id (as the sandbox app sees it) by first name: alice, bob. */
  openIdOf(name: "alice" | "bob"): string;
  readonly auth: ReturnType<typeof createClient<typeof AuthService>>;
  /** The user's messages, through the emulator's control API. */
  messagesOf(openId: string): Promise<MessageView[]>;
  /** The card the user received for the session (waits for the dispatcher). */
  cardFor(openId: string, sessionId: string): Promise<MessageView>;
  sessionIn(id: string, state: AuthSessionState): Promise<AuthSession>;
  /** The person decides on Lark's consent page, through the control API: where the browser goes next. */
  decide(url: string, openId: string, decision: "approve" | "deny"): Promise<string>;
  readonly dataDir: string;
  close(): Promise<void>;
}

/** Starts the sandbox on 127.0.0.1 with every port (gRPC, HTTP, emulator) chosen at bind time. */
export async function startSandboxApp(): Promise<SandboxApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "lark-auth-sandbox-"));
  const testDb = await createTestDatabase();
  const config = parseConfig({
    LARK_AUTH_SANDBOX: "1",
    LARK_AUTH_BIND_HOST: "127.0.0.1",
    LARK_AUTH_GRPC_PORT: "0",
    LARK_AUTH_HTTP_PORT: "0",
    LARK_AUTH_EMULATOR_PORT: "0",
    LARK_AUTH_DATA_DIR: dataDir,
    LARK_AUTH_DEV_CALLER_KEY: DEV_CALLER_KEY,
    LARK_AUTH_SHUTDOWN_GRACE_MS: "2000",
  });
  const logger = createLogger({ level: "silent" });
  const app = await buildApp(config, { db: testDb.db, logger, jobs: FAST_JOBS }).catch(async (err) => {
    await testDb.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const sandbox = app.sandbox;
  if (!sandbox) throw new Error("sandbox mode did not start");
  const emulatorUrl = sandbox.emulatorUrl;
  const transport = createGrpcTransport({
    baseUrl: `http://127.0.0.1:${app.grpcPort}`,
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${DEV_CALLER_KEY}`);
        return next(req);
      },
    ],
  });
  const auth = createClient(AuthService, transport);
  const control = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${emulatorUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const messagesOf = async (openId: string) =>
    (await control<{ messages: MessageView[] }>(`/_emulator/users/${encodeURIComponent(openId)}/messages`))
      .messages;
  return {
    app,
    db: testDb.db,
    emulatorUrl,
    httpUrl: `http://127.0.0.1:${app.httpPort}`,
    dataDir,
    auth,
    openIdOf(name) {
      const user = sandbox.users.find((u) => u.email.startsWith(`${name}@`));
      if (!user) throw new Error(`no demo user ${name}`);
      return user.open_id;
    },
    messagesOf,
    cardFor: (openId, sessionId) =>
      waitFor(
        async () => (await messagesOf(openId)).find((m) => JSON.stringify(m.card).includes(sessionId)),
        `the card of ${sessionId}`,
      ),
    sessionIn: (id, state) =>
      waitFor(async () => {
        const { session } = await auth.getAuthSession({ sessionId: id });
        return session?.state === state ? session : undefined;
      }, `session ${id} in state ${S[state]}`),
    async decide(url, openId, decision) {
      const answer = await control<{ redirect_url?: string }>("/_emulator/oauth/decide", {
        url,
        open_id: openId,
        decision,
      });
      return answer.redirect_url ?? "";
    },
    async close() {
      await app.close();
      await testDb.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export { SANDBOX_APP_ID };
