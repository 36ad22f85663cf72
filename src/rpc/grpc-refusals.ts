import type { DescMethod, DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { BaseServerInterceptingCall } from "@grpc/grpc-js/build/src/server-interceptors.js";
import type { Logger } from "../telemetry/logger.js";
import type { RefusedMetrics } from "../telemetry/metrics.js";
import { type RefusalKind, refusal } from "./errors.js";

export interface GrpcRefusalDeps {
  readonly logger: Logger;
  readonly refused?: RefusedMetrics;
}

type Status = Parameters<BaseServerInterceptingCall["sendStatus"]>[0];

const DETAILS = "grpc-status-details-bin";

/**
 * What a status grpc-js sent on its own refuses, by grpc-js 1.14's code and text; undefined for
 * anything else (a deadline, a cancel, a failure to send), which keeps its own status.
 */
function kindOf(status: Status): RefusalKind | undefined {
  const text = status.details ?? "";
  switch (status.code) {
    case grpc.status.INTERNAL:
      if (text === "Failed to decompress message") return "undecodable";
      return text.startsWith("Invalid grpc-timeout value") ? "invalid_timeout" : undefined;
    case grpc.status.UNIMPLEMENTED:
      return text.startsWith("Received message compressed with unsupported encoding")
        ? "unsupported_encoding"
        : undefined;
    case grpc.status.RESOURCE_EXHAUSTED:
      // "Received message larger than max" (framing) or "... that decompresses to a size larger".
      return text.startsWith("Received message") ? "too_large" : undefined;
    default:
      return undefined;
  }
}

/**
 * Answers the requests grpc-js refuses itself, before a handler runs (a corrupt gzip body, an
 * unsupported grpc-encoding, a malformed grpc-timeout, a message over the receive limit), as
 * the HTTP port answers them: our code, message and ErrorInfo, counted as refused.
 *
 * grpc-js sends those statuses from its base call straight to itself (`this.sendStatus`), so a
 * Responder's withSendStatus never sees them. Instead, this interceptor must come first in the
 * chain: it gives the base call of each call to our services a sendStatus that rewrites such a
 * status, and returns the same call unwrapped. A successful call pays an instanceof, one
 * property store and, when it ends, one comparison; no closure or wrapper is allocated.
 */
export function grpcRefusals(
  services: readonly DescService[],
  deps: GrpcRefusalDeps,
): grpc.ServerInterceptor {
  const methods = new Map<string, DescMethod>();
  for (const s of services) for (const m of s.methods) methods.set(`/${s.typeName}/${m.name}`, m);
  const sendStatus = BaseServerInterceptingCall.prototype.sendStatus;

  function answerRefusal(this: BaseServerInterceptingCall, status: Status): void {
    if (status.code === grpc.status.OK || status.metadata?.get(DETAILS).length) {
      sendStatus.call(this, status);
      return;
    }
    const kind = kindOf(status);
    const method = kind && methods.get((this as unknown as { handler: { path: string } }).handler.path);
    if (!kind || !method) {
      sendStatus.call(this, status);
      return;
    }
    const answer = refusal(kind, method).answer;
    deps.refused?.refused("grpc", kind);
    deps.logger.info({ rpc: method.name, reason: answer.reason }, "request refused");
    const metadata = new grpc.Metadata();
    metadata.set(DETAILS, Buffer.from(answer.statusBin));
    sendStatus.call(this, { code: answer.code as number as grpc.status, details: answer.message, metadata });
  }

  // Health and reflection calls get it too: it passes their statuses through (no method of ours).
  return (_descriptor, call) => {
    if (call instanceof BaseServerInterceptingCall)
      (call as { sendStatus: typeof answerRefusal }).sendStatus = answerRefusal;
    // Not wrapped: a ServerInterceptingCall per call would allocate on every successful call.
    return call as grpc.ServerInterceptingCall;
  };
}
