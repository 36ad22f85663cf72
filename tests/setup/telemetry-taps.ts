import type { TracerProvider } from "@opentelemetry/api";
import type { DestinationStream } from "pino";
import type { Registry } from "prom-client";
import { exported } from "../support/spans.js";
import type { OutputKind } from "./leak-ledger.js";

/**
 * Taps on what the service emits, for the secret scan: every log line, every ended span, every
 * metrics exposition. They observe and pass everything on unchanged.
 */
export type Sink = (kind: OutputKind, text: string) => void;

/** A logger destination that hands each line to `sink` and then to `destination` (stdout if none). */
export function teeDestination(sink: Sink, destination?: DestinationStream): DestinationStream {
  const target = destination ?? process.stdout;
  const tee = {
    write(line: string) {
      sink("log", line);
      return target.write(line);
    },
  };
  const flush = (target as { flush?: (cb?: (err?: Error) => void) => void }).flush;
  if (typeof flush === "function") Object.assign(tee, { flush: flush.bind(target) });
  return tee as DestinationStream;
}

const SPANS_TAPPED = Symbol.for("lark-auth.tests.spans-tapped");

/**
 * Hands every SDK span to `sink` as an exporter would ship it, once ended, whatever provider made
 * it: the SDK's span class is shared by every provider of the process, so its `end` is wrapped.
 */
export function tapSpans(Provider: new () => TracerProvider, sink: Sink): void {
  const probe = new Provider().getTracer("probe").startSpan("probe");
  const proto = Object.getPrototypeOf(probe) as {
    end: (...args: unknown[]) => void;
    [SPANS_TAPPED]?: Sink;
  };
  const first = proto[SPANS_TAPPED] === undefined;
  proto[SPANS_TAPPED] = sink;
  if (!first) return;
  const end = proto.end;
  proto.end = function tappedEnd(this: Parameters<typeof exported>[0], ...args: unknown[]) {
    const wasEnded = (this as { ended?: boolean }).ended;
    end.apply(this, args);
    if (!wasEnded) proto[SPANS_TAPPED]?.("span", exported(this));
  };
}

const REGISTRIES = Symbol.for("lark-auth.tests.registries");

/**
 * Remembers every prom-client registry a metric is registered on, and hands every exposition
 * served (a /metrics scrape) to `sink`. Returns the registries seen, for a final sweep.
 */
export function tapRegistries(promClient: typeof import("prom-client"), sink: Sink): Set<Registry> {
  const proto = promClient.Registry.prototype as Registry & {
    [REGISTRIES]?: { seen: Set<Registry>; sink: Sink };
  };
  if (proto[REGISTRIES]) {
    proto[REGISTRIES] = { seen: new Set(), sink };
    return proto[REGISTRIES].seen;
  }
  proto[REGISTRIES] = { seen: new Set(), sink };
  const register = proto.registerMetric;
  proto.registerMetric = function tappedRegister(this: Registry, metric) {
    proto[REGISTRIES]?.seen.add(this);
    return register.call(this, metric);
  };
  const metrics = proto.metrics;
  proto.metrics = async function tappedMetrics(this: Registry) {
    const text = await metrics.call(this);
    proto[REGISTRIES]?.sink("metrics", text);
    return text;
  };
  return proto[REGISTRIES].seen;
}

/**
 * Every series the registries hold now, as text: the label values are what could carry a secret.
 * Scrape-time collectors are not run (they read databases the file has already closed).
 */
export async function sweepRegistries(registries: Iterable<Registry>): Promise<string> {
  const out: string[] = [];
  for (const registry of registries) {
    for (const metric of registry.getMetricsAsArray()) {
      const m = metric as unknown as { collect?: unknown; get(): Promise<unknown> };
      const collect = m.collect;
      m.collect = undefined;
      try {
        out.push(JSON.stringify(await m.get()));
      } finally {
        m.collect = collect;
      }
    }
  }
  return out.join("\n");
}
