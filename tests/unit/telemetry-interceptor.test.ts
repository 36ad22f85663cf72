import { Writable } from "node:stream";
import { create, type DescMethod } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { AuthService, WatchAuthEventsResponseSchema } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { newCallContext } from "../../src/rpc/call-context.js";
import { telemetryInterceptor } from "../../src/rpc/interceptors/telemetry.js";
import { createPipeline, type ServiceHandlers } from "../../src/rpc/pipeline.js";
import { createLogger } from "../../src/telemetry/logger.js";

describe("telemetry interceptor on a server stream", () => {
  it("ends the span and records the call when the caller closes the stream early", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const observed: [string, number, string][] = [];
    const lines: string[] = [];
    const logger = createLogger({
      level: "info",
      destination: new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    });
    const method = AuthService.method.watchAuthEvents;
    const handlers = new Map<DescMethod, ServiceHandlers[string]>([
      [
        method,
        async function* () {
          // A watch never ends by itself: only the caller going away stops it.
          for (;;) {
            yield create(WatchAuthEventsResponseSchema, {
              kind: { case: "bookmark", value: { eventId: "1", time: timestampNow() } },
            });
          }
        },
      ],
    ]);
    const metrics = {
      observe: (m: string, code: number, reason: string) => void observed.push([m, code, reason]),
    };
    const pipeline = createPipeline(handlers, [
      telemetryInterceptor(provider.getTracer("test"), metrics, logger),
    ]);
    const ctx = newCallContext({
      method,
      source: { header: () => undefined, signals: () => [] },
      logger,
    });
    const stream = pipeline({ method, request: create(method.input), ctx }) as AsyncIterable<unknown>;
    let received = 0;
    for await (const _ of stream) {
      received += 1;
      if (received === 2) break; // What both mounts do when the caller cancels.
    }
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes["lark_auth.outcome"]).toBe("CANCELLED");
    expect(spans[0]?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(observed).toEqual([["WatchAuthEvents", Code.Canceled, "CANCELLED"]]);
    expect(lines.some((l) => l.includes('"level":"error"'))).toBe(false);
    await provider.shutdown();
  });
});
