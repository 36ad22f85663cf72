import {
  Counter,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import { createEventMetrics, type EventMetrics } from "./event-metrics.js";

/** RPC metrics; labels are method names, status codes and stable reasons only, never user data. */
export interface RpcMetrics {
  /** `code` is the gRPC status code number (0 for OK); `reason` OK or the ErrorInfo reason. */
  observe(method: string, code: number, reason: string, seconds: number): void;
}

const NAME = "lark_auth_rpc_duration_seconds";
const HELP =
  "RPC handling time by method, gRPC status code (OK, NOT_FOUND, ...) and outcome reason (OK or the ErrorInfo reason); _count is the number of calls.";
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** gRPC's canonical status code names, indexed by code number: the `code` label's values. */
export const GRPC_CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

interface Series {
  readonly labels: { method: string; code: string; reason: string };
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram specialised for the RPC hot path: observing is an array increment
 * (prom-client's generic histogram hashes its label set on every observation, a measurable
 * share of gRPC throughput in bench/grpc-noop.ts). The series key space is closed
 * (methods x codes x reasons, and a reason has one code), so the map cannot grow without bound.
 */
class RpcHistogram implements RpcMetrics {
  readonly name = NAME;
  readonly help = HELP;
  readonly #series = new Map<string, Series>();

  observe(method: string, code: number, reason: string, seconds: number): void {
    const key = `${method}\u0000${code}\u0000${reason}`;
    let series = this.#series.get(key);
    if (!series) {
      const labels = { method, code: GRPC_CODE_NAMES[code] ?? "UNKNOWN", reason };
      series = { labels, counts: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    let i = 0;
    while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
    (series.counts[i] as number) += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** The prom-client metric shape, with cumulative buckets as the exposition format wants. */
  async get(): Promise<MetricObjectWithValues<MetricValue<string>>> {
    const values: MetricValue<string>[] = [];
    for (const s of this.#series.values()) {
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.counts[i] as number;
        values.push({
          labels: { ...s.labels, le },
          value: cumulative,
          metricName: `${NAME}_bucket`,
        } as never);
      });
      values.push({
        labels: { ...s.labels, le: "+Inf" },
        value: s.count,
        metricName: `${NAME}_bucket`,
      } as never);
      values.push({ labels: s.labels, value: s.sum, metricName: `${NAME}_sum` } as never);
      values.push({ labels: s.labels, value: s.count, metricName: `${NAME}_count` } as never);
    }
    return { name: NAME, help: HELP, type: "histogram", values, aggregator: "sum" } as never;
  }

  reset(): void {
    this.#series.clear();
  }
}

/**
 * Requests refused before they became a call of the pipeline (wrong media type, undecodable or
 * oversized body, unsupported compression, too many at once). `reason` is one of a closed set
 * of snake_case words chosen by the transports, never request data.
 */
export interface RefusedMetrics {
  refused(transport: "grpc" | "http", reason: string): void;
}

/** A registry per app instance (no global default registry), with process metrics. */
export function createMetrics(): {
  registry: Registry;
  rpc: RpcMetrics;
  refused: RefusedMetrics;
  events: EventMetrics;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "lark_auth_" });
  const rpc = new RpcHistogram();
  registry.registerMetric(rpc as never);
  const counter = new Counter({
    name: "lark_auth_requests_refused_total",
    help: "Requests refused by a transport before or while decoding them, by transport and reason.",
    labelNames: ["transport", "reason"] as const,
    registers: [registry],
  });
  const refused: RefusedMetrics = { refused: (transport, reason) => counter.inc({ transport, reason }) };
  return { registry, rpc, refused, events: createEventMetrics(registry) };
}
