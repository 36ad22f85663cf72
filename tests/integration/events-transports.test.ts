import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { reasonOf } from "../support/rpc.js";
import {
  ADMIN_KEY,
  openWs,
  overflow,
  type Replica,
  record,
  startReplica,
  TEST_APP_ID,
  until,
  WATCH_KEY,
  writeEvent,
} from "./events-harness.js";

describe("WatchAuthEvents over every transport", () => {
  let t: TestDatabase;
  let r: Replica;
  const write = async (...args: Parameters<typeof writeEvent> extends [unknown, ...infer R] ? R : never) => {
    const id = await writeEvent(t.db, ...args);
    r.app.events.notifyEventsCommitted();
    return id;
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    r = await startReplica(t.db);
  });
  afterAll(async () => {
    await r?.close();
    await t?.close();
  });

  it("the WebSocket and gRPC streams carry the same sequence; JSON is the protobuf JSON mapping", async () => {
    const first = await write("SESSION_CREATED");
    const viaHeader = openWs(r, `?app_id=${TEST_APP_ID}&after_event_id=${first}`, {
      header: `Bearer ${ADMIN_KEY}`,
    });
    const viaProtocol = openWs(r, `?after_event_id=${first}&types=SESSION_CREATED,AUTHORIZED`, {
      protocols: ["lark-auth.v1", `lark-auth.bearer.${WATCH_KEY}`],
    });
    const rpc = record(r.client(), { appId: TEST_APP_ID, afterEventId: first });
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(await write(i % 2 ? "AUTHORIZED" : "SESSION_CREATED", i % 2 ? { state: "AUTHORIZED" } : {}));
    await rpc.waitFor(5);
    await until(
      () => viaHeader.eventIds().length >= 5 && viaProtocol.eventIds().length >= 5,
      10_000,
      "ws events",
    );
    expect(rpc.ids()).toEqual(ids);
    expect(viaHeader.eventIds()).toEqual(ids);
    expect(viaProtocol.eventIds()).toEqual(ids);
    expect(viaHeader.ws.protocol).toBe("lark-auth.v1");
    const ev = viaHeader.messages.find((m) => m.event)?.event as Record<string, unknown>;
    expect(ev.type).toBe("AUTH_EVENT_TYPE_SESSION_CREATED");
    expect((ev.session as Record<string, unknown>).appId).toBe(TEST_APP_ID);
    await until(() => viaHeader.messages.some((m) => m.bookmark), 10_000, "a ws bookmark");
    viaHeader.ws.close();
    viaProtocol.ws.close();
    rpc.abort.abort();
  });

  it("closes with 4000 + the gRPC code and the ErrorInfo reason", async () => {
    const noKey = openWs(r, "");
    expect(await noKey.closed).toEqual({ code: 4000 + Code.Unauthenticated, reason: "UNAUTHENTICATED" });
    const denied = openWs(r, "?app_id=cli_fedcba9876543210", { header: `Bearer ${WATCH_KEY}` });
    expect(await denied.closed).toEqual({ code: 4000 + Code.PermissionDenied, reason: "PERMISSION_DENIED" });
    const typo = openWs(r, "?appid=x", { header: `Bearer ${ADMIN_KEY}` });
    expect(await typo.closed).toEqual({ code: 4000 + Code.InvalidArgument, reason: "INVALID_ARGUMENT" });
    const badType = openWs(r, "?types=HAPPENED", { header: `Bearer ${ADMIN_KEY}` });
    expect((await badType.closed).code).toBe(4000 + Code.InvalidArgument);
    const twoUsers = openWs(r, "?open_id=ou_a&user_id=b", { header: `Bearer ${ADMIN_KEY}` });
    expect((await twoUsers.closed).code).toBe(4000 + Code.InvalidArgument);
  });

  it("refuses an upgrade offering subprotocols without lark-auth.v1 (400) or to another path (404); offering none is fine", async () => {
    const status = await new Promise<number>((resolve) => {
      const c = new WebSocket(`ws://127.0.0.1:${r.app.httpPort}/v1/auth-events`, ["graphql-ws"], {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      c.on("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0);
        c.terminate();
      });
      c.on("error", () => undefined);
    });
    expect(status).toBe(400);
    const elsewhere = await new Promise<number>((resolve) => {
      const c = new WebSocket(`ws://127.0.0.1:${r.app.httpPort}/v1/other-events`, ["lark-auth.v1"]);
      c.on("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0);
        c.terminate();
      });
      c.on("error", () => undefined);
    });
    expect(elsewhere).toBe(404);
    const bare = openWs(r, "", { header: `Bearer ${ADMIN_KEY}`, protocols: [] });
    await until(() => bare.ws.readyState === bare.ws.OPEN, 10_000, "the upgrade without subprotocols");
    bare.ws.close();
  });

  it("closes a WebSocket watcher that falls behind 4008 WATCHER_TOO_SLOW; it resumes with no gap or duplicate", async () => {
    const slow = await startReplica(t.db, { maxBuffered: 8 });
    try {
      const first = await writeEvent(t.db, "SESSION_CREATED");
      const admin = { header: `Bearer ${ADMIN_KEY}` };
      const ws = openWs(slow, `?app_id=${TEST_APP_ID}&after_event_id=${first}`, admin);
      await until(() => ws.messages.length > 0, 10_000, "a first bookmark");
      // The client stops reading while thousands of events arrive.
      ws.ws.pause();
      const written = await overflow(t.db, slow, first);
      ws.ws.resume();
      expect(await ws.closed).toEqual({ code: 4000 + Code.ResourceExhausted, reason: "WATCHER_TOO_SLOW" });
      const got = ws.eventIds();
      expect(got.length).toBeLessThan(written.length);
      const resumed = openWs(slow, `?app_id=${TEST_APP_ID}&after_event_id=${got.at(-1) ?? first}`, admin);
      await until(() => resumed.eventIds().length >= written.length - got.length, 20_000, "the rest");
      expect([...got, ...resumed.eventIds()]).toEqual(written);
      resumed.ws.close();
    } finally {
      await slow.close();
    }
  }, 150_000);

  it("a WebSocket reader paused longer than the ping timeout still gets 4008 WATCHER_TOO_SLOW, behind the queued data", async () => {
    // Pings every 10 s: a paused client cannot answer them, so before the close frame was queued at
    // the moment the watcher failed, the ping timer cut the socket (1006) before the client resumed.
    const slow = await startReplica(t.db, { maxBuffered: 8 }, 10_000);
    try {
      const first = await writeEvent(t.db, "SESSION_CREATED");
      const ws = openWs(slow, `?app_id=${TEST_APP_ID}&after_event_id=${first}`, {
        header: `Bearer ${ADMIN_KEY}`,
      });
      await until(() => ws.messages.length > 0, 10_000, "a first bookmark");
      ws.ws.pause();
      const written = await overflow(t.db, slow, first);
      await new Promise((r) => setTimeout(r, 21_000)); // two ping intervals unanswered
      ws.ws.resume();
      expect(await ws.closed).toEqual({ code: 4000 + Code.ResourceExhausted, reason: "WATCHER_TOO_SLOW" });
      const got = ws.eventIds();
      expect(got).toEqual(written.slice(0, got.length));
    } finally {
      await slow.close();
    }
  }, 150_000);

  it("pings idle sockets; one that never answers a ping is closed 4004 PING_TIMEOUT", async () => {
    const pinging = await startReplica(t.db, {}, 1000);
    try {
      const header = `Bearer ${ADMIN_KEY}`;
      const answering = openWs(pinging, "", { header });
      let pings = 0;
      answering.ws.on("ping", () => pings++);
      const mute = openWs(pinging, "", { header, autoPong: false });
      expect(await mute.closed).toEqual({ code: 4000 + Code.DeadlineExceeded, reason: "PING_TIMEOUT" });
      await until(() => pings >= 3, 20_000, "three pings");
      expect(answering.ws.readyState).toBe(answering.ws.OPEN);
      answering.ws.close();
    } finally {
      await pinging.close();
    }
  });

  it("a plain @grpc/grpc-js client built from the .proto files streams events", async () => {
    const def = protoLoader.loadSync(["lark/auth/v1/auth_service.proto"], {
      includeDirs: [fileURLToPath(new URL("../../proto", import.meta.url))],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    // biome-ignore lint/suspicious/noExplicitAny: dynamic stubs are untyped by nature.
    const pkg = grpc.loadPackageDefinition(def) as any;
    const client = new pkg.lark.auth.v1.AuthService(
      `127.0.0.1:${r.app.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    const md = new grpc.Metadata();
    md.set("authorization", `Bearer ${ADMIN_KEY}`);
    const from = await write("SESSION_CREATED");
    const call = client.WatchAuthEvents({ app_id: TEST_APP_ID, after_event_id: from }, md);
    call.on("error", () => undefined); // Our own cancel below ends it CANCELLED.
    const got: { event_id: string; type: string }[] = [];
    call.on("data", (m: { kind: string; event?: { event_id: string; type: string } }) => {
      if (m.kind === "event" && m.event) got.push(m.event);
    });
    const id = await write("DECLINED", { state: "DECLINED" });
    await until(() => got.length > 0, 10_000, "a plain client event");
    expect(got[0]).toMatchObject({ event_id: id, type: "AUTH_EVENT_TYPE_DECLINED" });
    call.cancel();
    client.close();
  });

  it("on shutdown, gRPC streams end UNAVAILABLE and WebSockets close 4014 SHUTTING_DOWN", async () => {
    const other = await startReplica(t.db);
    const rpc = record(other.client());
    const ws = openWs(other, "", { header: `Bearer ${ADMIN_KEY}` });
    await until(() => rpc.bookmarks.length > 0 && ws.messages.length > 0, 10_000, "open streams");
    await other.close();
    const err = await rpc.ended;
    expect((err as { code?: number }).code).toBe(Code.Unavailable);
    expect(reasonOf(err as never)).toBe("SHUTTING_DOWN");
    expect(await ws.closed).toEqual({ code: 4000 + Code.Unavailable, reason: "SHUTTING_DOWN" });
  });
});
