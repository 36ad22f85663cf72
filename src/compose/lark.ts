import type { LarkAppConfig, ServiceConfig } from "../config/types.js";
import { createRateLimiter, scaleWindows } from "../jobs/rate-limiter.js";
import { createLarkGateway, type LarkService } from "../lark/gateway.js";
import { createLarkCallMetrics } from "../telemetry/lark-call-metrics.js";
import type { Logger } from "../telemetry/logger.js";
import { getTracer } from "../telemetry/tracing.js";

/**
 * The Lark gateway under the outbound call policy: time-outs, retries, a circuit breaker and a pacer
 * per app, with metrics (registered on the service's registry by the caller) and a span per call.
 * The pacer holds this replica to the same share of Lark's per-app limits as the jobs' limiters.
 */
export function createPolicedGateway(config: ServiceConfig, apps: readonly LarkAppConfig[], logger: Logger) {
  const o = config.options;
  const windows = [
    { limit: o.larkRateLimitPerSecond, windowMs: 1000 },
    { limit: o.larkRateLimitPerMinute, windowMs: 60_000 },
  ];
  const metrics = createLarkCallMetrics();
  const gateway: LarkService = createLarkGateway({
    apps,
    logger,
    httpTimeoutMs: o.larkCalls.httpTimeoutMs,
    policy: o.larkCalls,
    metrics,
    tracer: getTracer(),
    pacer: createRateLimiter({ windows: scaleWindows(windows, o.larkLimitHeadroom) }),
  });
  return { gateway, metrics };
}
