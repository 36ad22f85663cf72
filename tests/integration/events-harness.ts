import { Writable } from "node:stream";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { WebSocket } from "ws";
import type { WatchAuthEventsResponse } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { AuthService, type WatchAuthEventsRequestSchema } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { type App, type AppOverrides, buildApp } from "../../src/app.js";
import type { CallerKeyConfig } from "../../src/config/index.js";
import { parseConfig } from "../../src/config/index.js";
import { hashCallerKey } from "../../src/crypto/caller-keys.js";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { syncApps } from "../../src/store/apps.js";
import type { Database } from "../../src/store/database.js";
import type { AuthEventType } from "../../src/store/entities/index.js";
import { appendEvent, appendEventReturningId } from "../../src/store/event-writer.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { buildSession } from "../support/factories.js";
import { ADMIN_KEY, OTHER_APP_ID, TEST_APP_ID, TEST_ENV } from "../support/test-app.js";

export { ADMIN_KEY, OTHER_APP_ID, TEST_APP_ID };
/** Holds auth:watch on TEST_APP_ID only. */
export const WATCH_KEY = "lak_test_watch_key_0000000000000000";

const WATCHER: CallerKeyConfig = {
  name: "watcher",
  keySha256: hashCallerKey(WATCH_KEY),
  permissions: new Map([[TEST_APP_ID, new Set(["auth:watch" as const])]]),
};

/** A running replica and clients for it. */
export interface Replica {
  readonly app: App;
  readonly grpcUrl: string;
  readonly httpUrl: string;
  client(key?: string, transport?: "grpc" | "connect"): ReturnType<typeof createClient<typeof AuthService>>;
  close(): Promise<void>;
}

/** Starts the real service on `db` (both ports on 127.0.0.1), with TEST_APP_ID and OTHER_APP_ID rows. */
export async function startReplica(
  db: Database,
  events: AppOverrides["events"] = {},
  websocketPingMs?: number,
): Promise<Replica> {
  const config = parseConfig({ ...TEST_ENV, LARK_AUTH_SHUTDOWN_GRACE_MS: "1000" });
  await syncApps(db, [{ appId: OTHER_APP_ID, name: "Other", domain: "feishu", flow: "redirect" }]);
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const logger = createLogger({ level: "warn", destination: sink });
  const app = await buildApp(
    { ...config, callerKeys: [...config.callerKeys, WATCHER] },
    { db, logger, events: { bookmarkIntervalMs: 200, ...events }, websocketPingMs },
  );
  const grpcUrl = `http://127.0.0.1:${app.grpcPort}`;
  const httpUrl = `http://127.0.0.1:${app.httpPort}`;
  const client = (key = ADMIN_KEY, kind: "grpc" | "connect" = "grpc") => {
    const interceptors = [
      (next: Parameters<NonNullable<Parameters<typeof createGrpcTransport>[0]["interceptors"]>[number]>[0]) =>
        (req: Parameters<typeof next>[0]) => {
          req.header.set("authorization", `Bearer ${key}`);
          return next(req);
        },
    ];
    const transport =
      kind === "grpc"
        ? createGrpcTransport({ baseUrl: grpcUrl, interceptors })
        : createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1", interceptors });
    return createClient(AuthService, transport);
  };
  return { app, grpcUrl, httpUrl, client, close: () => app.close() };
}

/** Appends one event per call in its own transaction, as the authorization flow does; returns its id. */
export async function writeEvent(
  db: Database,
  type: AuthEventType,
  session: Partial<AuthSession> = {},
  reason?: string,
): Promise<string> {
  const s = buildSession({ appId: TEST_APP_ID, ...session });
  return db.em().transactional((em) => appendEventReturningId(em, { type, session: s, reason }));
}

/**
 * Appends `count` events in one transaction (far more than a small watch buffer holds); returns
 * the ids after `after` in log order (final ids are given at commit, so they are read back).
 */
export async function writeBurst(db: Database, count: number, after: string): Promise<string[]> {
  await db.em().transactional(async (em) => {
    for (let i = 0; i < count; i++)
      await appendEvent(em, { type: "SESSION_CREATED", session: buildSession({ appId: TEST_APP_ID }) });
  });
  const rows = await db
    .em()
    .execute<{ id: string }[]>("select id::text as id from auth_event where id > ? order by id", [after]);
  return rows.map((r) => r.id);
}

/**
 * Writes bursts of events until `replica` has ended its watchers (a consumer that stopped reading
 * fills the transport's flow-control windows first, then the watcher's buffer); returns the ids
 * written after `after`. Fails if a few bursts never overflow it.
 */
export async function overflow(db: Database, replica: Replica, after: string): Promise<string[]> {
  const written: string[] = [];
  for (let burst = 0; burst < 5; burst++) {
    written.push(...(await writeBurst(db, 2000, written.at(-1) ?? after)));
    replica.app.events.notifyEventsCommitted();
    const last = BigInt(written.at(-1) ?? after);
    await until(
      () => {
        const { watchers, head } = replica.app.events.stats();
        return watchers === 0 || head >= last;
      },
      30_000,
      "the hub to read the burst",
    );
    // The transport may still be taking the last messages; give it a moment before judging.
    await new Promise((r) => setTimeout(r, 200));
    if (replica.app.events.stats().watchers === 0) return written;
  }
  throw new Error(`${written.length} events never overflowed the watcher`);
}

/** A watch consumed in the background: what arrived, and how it ended. */
export interface Recording {
  readonly events: WatchAuthEventsResponse[];
  readonly bookmarks: string[];
  readonly ids: () => string[];
  readonly ended: Promise<unknown>;
  readonly abort: AbortController;
  /** Resolves once `n` events have arrived (rejects if the stream ends first). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

/** Starts consuming a watch; the stream keeps running until aborted or ended by the server. */
export function record(
  client: ReturnType<Replica["client"]>,
  req: MessageInitShape<typeof WatchAuthEventsRequestSchema> = {},
): Recording {
  const events: WatchAuthEventsResponse[] = [];
  const bookmarks: string[] = [];
  const abort = new AbortController();
  const waiters: { n: number; resolve: () => void }[] = [];
  const ended = (async () => {
    for await (const msg of client.watchAuthEvents(req, { signal: abort.signal })) {
      if (msg.kind.case === "event") events.push(msg);
      else if (msg.kind.case === "bookmark") bookmarks.push(msg.kind.value.eventId);
      for (const w of waiters.filter((w) => events.length >= w.n)) w.resolve();
    }
  })().then(
    () => "ended",
    (err: unknown) => err,
  );
  const ids = () => events.map((e) => (e.kind.case === "event" ? e.kind.value.eventId : ""));
  const waitFor = (n: number, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (events.length >= n) return resolve();
      const timer = setTimeout(() => reject(new Error(`got ${events.length} of ${n} events`)), timeoutMs);
      waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      void ended.then((how) => {
        clearTimeout(timer);
        if (events.length < n)
          reject(new Error(`stream ended (${String(how)}) after ${events.length} of ${n}`));
      });
    });
  return { events, bookmarks, ids, ended, abort, waitFor };
}

/** An events WebSocket consumed in the background: its messages, and how it closed. */
export interface WsRecording {
  readonly messages: Record<string, unknown>[];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly ws: WebSocket;
  eventIds(): string[];
}

/** Opens the events WebSocket with `query` (e.g. "?app_id=..."), the caller key as a header or subprotocol. */
export function openWs(
  r: Replica,
  query: string,
  opts: { header?: string; protocols?: string[]; autoPong?: boolean } = {},
): WsRecording {
  const ws = new WebSocket(
    `ws://127.0.0.1:${r.app.httpPort}/v1/auth-events${query}`,
    opts.protocols ?? ["lark-auth.v1"],
    { headers: opts.header ? { authorization: opts.header } : {}, autoPong: opts.autoPong ?? true },
  );
  const messages: Record<string, unknown>[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  ws.on("error", () => undefined);
  const eventIds = () => messages.flatMap((m) => (m.event ? [(m.event as { eventId: string }).eventId] : []));
  return { messages, closed, ws, eventIds };
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
