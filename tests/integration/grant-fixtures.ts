// Shared set-up for the token tests: a real emulator, real users authorized through the real gateway
// (authorize page decided in the emulator, code exchanged), their grants sealed into `user_grant` the
// way the authorization flow seals them, and the real service (buildApp) on a test database.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { TokenService } from "../../gen/lark/auth/v1/token_service_pb.js";
import { type App, type AppOverrides, buildApp } from "../../src/app.js";
import { parseConfig } from "../../src/config/index.js";
import type { ServiceConfig } from "../../src/config/types.js";
import { hashCallerKey } from "../../src/crypto/caller-keys.js";
import { createSealer, type Sealer } from "../../src/crypto/seal.js";
import type { LarkUserTokens } from "../../src/domain/ports.js";
import type { AppView, RunningEmulator, UserView } from "../../src/emulator/index.js";
import { createLarkGateway, type LarkService } from "../../src/lark/gateway.js";
import type { Database } from "../../src/store/database.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startTestEmulator } from "../conformance/emulator-support.js";

export const REDIRECT_URI = "http://127.0.0.1:1/oauth/callback";
export const CALLER_KEY = "lak_test_token_caller_00000000000000";
export const ENCRYPTION_KEY = Buffer.alloc(32, 9);
export const SCOPES = ["contact:user.email:readonly", "contact:user.employee_id:readonly"];
export const TOKEN_PATH = "/open-apis/authen/v2/oauth/token";

export interface LarkWorld {
  readonly emulator: RunningEmulator;
  readonly app: AppView;
  readonly gateway: LarkService;
  readonly sealer: Sealer;
  /** Every secret the tests saw, to scan logs for. */
  readonly secrets: string[];
}

export async function startLarkWorld(): Promise<LarkWorld> {
  const emulator = await startTestEmulator();
  const app = emulator.registerApp({ redirect_urls: [REDIRECT_URI], name: "Tokens" });
  // Seeding authorizes many users at once; tests about Lark's limits set them back.
  emulator.configure({ rate_limit_per_second: 100_000, rate_limit_per_minute: 1_000_000 });
  const logger = createLogger({ level: "silent" });
  const gateway = createLarkGateway({
    apps: [
      {
        appId: app.app_id,
        name: "Tokens",
        appSecret: app.app_secret,
        domain: emulator.url,
        flow: "redirect",
      },
    ],
    logger,
  });
  const sealer = createSealer([{ id: "test", key: ENCRYPTION_KEY }]);
  return { emulator, app, gateway, sealer, secrets: [app.app_secret] };
}

/** A new emulator user who approved the app: their identity and the tokens the code exchange gave. */
export async function authorizedUser(world: LarkWorld): Promise<{ user: UserView; tokens: LarkUserTokens }> {
  const { emulator, app, gateway } = world;
  const tag = randomBytes(4).toString("hex");
  const user = emulator.createUser({
    name: `User ${tag}`,
    email: `u-${tag}@example.com`,
    app_id: app.app_id,
  });
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const url = gateway.buildAuthorizeUrl(app.app_id, {
    redirectUri: REDIRECT_URI,
    scopes: SCOPES,
    state: tag,
    codeChallenge: challenge,
  });
  const decided = emulator.decide({ url, open_id: user.open_id, decision: "approve" });
  if (!decided.ok || !decided.redirect_url) throw new Error(`decide failed: ${JSON.stringify(decided)}`);
  const code = new URL(decided.redirect_url).searchParams.get("code") ?? "";
  const tokens = await gateway.exchangeCode(app.app_id, {
    code,
    redirectUri: REDIRECT_URI,
    codeVerifier: verifier,
  });
  world.secrets.push(tokens.accessToken, tokens.refreshToken ?? "");
  return { user, tokens };
}

/** How the stored grant's access token looks to the service: by default fresh (issued now, 2 h). */
export interface GrantTiming {
  /** Seconds since the access token was issued (default 0). */
  readonly ageSeconds?: number;
  /** Seconds of life left (default 7200 - age). */
  readonly leftSeconds?: number;
}

/** Inserts the grant the authorization flow would have written, sealed the same way (AAD per row and field). */
export async function insertGrant(
  db: Database,
  world: LarkWorld,
  who: { user: UserView; tokens: LarkUserTokens },
  timing: GrantTiming = {},
): Promise<string> {
  const { app, sealer } = world;
  const openId = who.user.open_id;
  const age = timing.ageSeconds ?? 0;
  const left = timing.leftSeconds ?? 7200 - age;
  const now = Date.now();
  const id = randomUUID();
  await db.em().execute(
    `insert into user_grant (id, app_id, open_id, user_id, union_id, name, email, scopes, access_token_sealed,
     access_token_key_id, access_expire_time, access_issue_time, refresh_token_sealed, refresh_token_key_id,
     refresh_expire_time) values (?, ?, ?, ?, ?, ?, ?, ?::text[], ?, 'test', ?, ?, ?, 'test', ?)`,
    [
      id,
      app.app_id,
      openId,
      who.user.user_id,
      who.user.union_id,
      who.user.name,
      who.user.email,
      `{${[...who.tokens.scopes, "offline_access"].join(",")}}`,
      Buffer.from(sealer.seal(who.tokens.accessToken, `grant:${app.app_id}:${openId}:access`)),
      new Date(now + left * 1000),
      new Date(now - age * 1000),
      Buffer.from(sealer.seal(who.tokens.refreshToken ?? "", `grant:${app.app_id}:${openId}:refresh`)),
      new Date(now + 7 * 86_400_000),
    ],
  );
  return id;
}

export interface GrantRowView {
  status: string;
  version: string;
  consecutive_refresh_failures: number;
  lease_owner: string | null;
  refresh_attempt_time: Date | null;
  status_reason: string | null;
}

export async function grantRow(db: Database, id: string): Promise<GrantRowView | undefined> {
  const rows = await db
    .em()
    .execute<GrantRowView[]>(
      "select status, version, consecutive_refresh_failures, lease_owner, refresh_attempt_time, status_reason from user_grant where id = ?",
      [id],
    );
  return rows[0];
}

export async function eventsOf(
  db: Database,
  openId: string,
): Promise<{ type: string; reason: string | null }[]> {
  return db
    .em()
    .execute<{ type: string; reason: string | null }[]>(
      "select type, reason from auth_event where open_id = ? order by id",
      [openId],
    );
}

/** How many refresh requests reached the emulator's token endpoint. */
export function tokenCalls(world: LarkWorld): number {
  return world.emulator
    .calls({ appId: world.app.app_id, path: TOKEN_PATH })
    .reduce((sum, c) => sum + c.count, 0);
}

export interface ServiceUnderTest {
  readonly app: App;
  readonly client: Client<typeof TokenService>;
  readonly logs: string[];
  close(): Promise<void>;
}

/** The service's config for `world`'s app: ephemeral loopback ports, CALLER_KEY with every permission. */
export function serviceConfig(world: LarkWorld, env: Record<string, string> = {}) {
  return parseConfig({
    LARK_AUTH_GRPC_PORT: "0",
    LARK_AUTH_HTTP_PORT: "0",
    LARK_AUTH_BIND_HOST: "127.0.0.1",
    LARK_AUTH_SANDBOX: "0",
    LARK_APP_ID: world.app.app_id,
    LARK_APP_SECRET: world.app.app_secret,
    LARK_DOMAIN: world.emulator.url,
    LARK_AUTH_CALLER_KEYS: `tokens=${hashCallerKey(CALLER_KEY)}`,
    LARK_AUTH_ENCRYPTION_KEYS: `test=${ENCRYPTION_KEY.toString("base64")}`,
    LARK_AUTH_SHUTDOWN_GRACE_MS: "1000",
    ...env,
  });
}

/** The real service for `world`'s app on `db` (its URL given on PostgreSQL, for LISTEN). */
export async function startService(
  world: LarkWorld,
  db: Database,
  overrides: Omit<AppOverrides, "db" | "logger"> = {},
  /** Changes the parsed config (per-app options the environment cannot express). */
  tweak: (config: ServiceConfig) => ServiceConfig = (c) => c,
): Promise<ServiceUnderTest> {
  const config = tweak(serviceConfig(world));
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger({ level: "debug", destination });
  const app = await buildApp(config, { grantRefresher: false, ...overrides, db, logger });
  const transport = createGrpcTransport({
    baseUrl: `http://127.0.0.1:${app.grpcPort}`,
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${CALLER_KEY}`);
        return next(req);
      },
    ],
  });
  return { app, client: createClient(TokenService, transport), logs, close: () => app.close() };
}

/** A UserRef as the generated client takes it. */
export interface PbRef {
  id: { case: "openId" | "userId" | "unionId"; value: string };
}
export const byOpenId = (openId: string): PbRef => ({ id: { case: "openId", value: openId } });

/** Polls `check` until it returns true or `ms` pass (no tight wall-clock asserts: generous bounds). */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
