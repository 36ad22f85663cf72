import { setTimeout as delay } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { SpanStatusCode } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthService,
  type GetAuthSessionRequest,
  GetAuthSessionResponseSchema,
} from "../../gen/lark/auth/v1/auth_service_pb.js";
import type { CallContext } from "../../src/rpc/context.js";
import { until } from "../support/net.js";
import { rejection } from "../support/rpc.js";
import { type RpcServers, startRpcServers } from "../support/rpc-servers.js";

/**
 * A handler that honours its call's abort signal, as store and Lark calls will: it waits up to
 * 20 s on `ctx.signal` and throws the AbortError node:timers/promises gives.
 */
const started = new Map<string, number>();
async function waitsOnSignal(req: GetAuthSessionRequest, ctx: CallContext) {
  started.set(req.sessionId, Date.now());
  await delay(20_000, undefined, { signal: ctx.signal });
  return create(GetAuthSessionResponseSchema);
}

describe("cancellations and deadlines are outcomes, not faults, on every transport", () => {
  let s: RpcServers;
  beforeAll(async () => {
    s = await startRpcServers({ handlers: [[AuthService.method.getAuthSession, waitsOnSignal as never]] });
  });
  afterAll(async () => s?.close());

  /** The server-side record of the call for `id`: its log lines and its span. */
  function recordOf(id: string) {
    const logs = s.records().filter((r) => r.session_id === id);
    const span = s.spans().find((sp) => sp.attributes["lark_auth.outcome"] && logs.length > 0);
    return { logs, span };
  }

  for (const transport of ["grpc", "connect", "grpcWeb"] as const) {
    it(`${transport}: an expired deadline is DEADLINE_EXCEEDED, aborts ctx.signal, is no error`, async () => {
      const id = `deadline-${transport}`;
      const t0 = Date.now();
      const err = await rejection(
        s.clients()[transport].getAuthSession({ sessionId: id }, { timeoutMs: 300 }),
      );
      expect(err.code).toBe(Code.DeadlineExceeded);
      await until(() => recordOf(id).logs.length > 0, 5_000, "the call to be recorded");
      // The handler's wait ended at the deadline, not after its 20 s.
      expect(Date.now() - t0).toBeLessThan(5_000);
      const { logs } = recordOf(id);
      expect(logs.map((l) => [l.level, l.reason])).toEqual([["info", "DEADLINE_EXCEEDED"]]);
      expect(await s.metricsText()).toMatch(
        /lark_auth_rpc_duration_seconds_count\{method="GetAuthSession",code="DEADLINE_EXCEEDED",reason="DEADLINE_EXCEEDED"\} [1-9]/,
      );
    });

    it(`${transport}: a client cancel is CANCELLED and is no error`, async () => {
      const id = `cancel-${transport}`;
      const controller = new AbortController();
      const call = rejection(
        s.clients()[transport].getAuthSession({ sessionId: id }, { signal: controller.signal }),
      );
      await until(() => started.has(id), 5_000, "the handler to start");
      controller.abort();
      expect((await call).code).toBe(Code.Canceled);
      await until(() => recordOf(id).logs.length > 0, 5_000, "the call to be recorded");
      expect(recordOf(id).logs.map((l) => [l.level, l.reason])).toEqual([["info", "CANCELLED"]]);
    });
  }

  it("records no span error and no INTERNAL for any of them", async () => {
    expect(s.records().filter((r) => r.level === "error")).toEqual([]);
    const outcomes = s.spans().map((sp) => sp.attributes["lark_auth.outcome"]);
    expect(outcomes.length).toBe(6);
    expect(new Set(outcomes)).toEqual(new Set(["DEADLINE_EXCEEDED", "CANCELLED"]));
    expect(s.spans().filter((sp) => sp.status.code === SpanStatusCode.ERROR)).toEqual([]);
    expect(await s.metricsText()).not.toContain('reason="INTERNAL"');
  });
});
