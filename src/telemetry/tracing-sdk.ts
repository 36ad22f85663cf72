import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace-node";

/** A registered OpenTelemetry SDK; `shutdown` flushes the spans still queued. */
export interface TracingSdk {
  shutdown(): Promise<void>;
}

/**
 * Registers the SDK globally: the tracer provider, the AsyncLocalStorage context manager (so the
 * database and Lark spans of a call find their parent) and the W3C traceparent propagator (or
 * whatever OTEL_PROPAGATORS names). Called at most once per process, before the app is built.
 */
export function registerTracing(opts: {
  readonly serviceName: string;
  readonly processors: readonly SpanProcessor[];
}): TracingSdk {
  const provider = new NodeTracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES adds to the resource; OTEL_SERVICE_NAME (parsed by the config) names it.
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ "service.name": opts.serviceName })),
    spanProcessors: [...opts.processors],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

/**
 * Exports over OTLP/HTTP in batches. The exporter reads the standard OTEL_EXPORTER_OTLP_* variables
 * itself (endpoint, headers, timeout, compression); the caller decided that one was configured.
 * Without this, no SDK is registered and every span is the API's free no-op.
 */
export function startOtlpTracing(serviceName: string): TracingSdk {
  return registerTracing({ serviceName, processors: [new BatchSpanProcessor(new OTLPTraceExporter())] });
}
