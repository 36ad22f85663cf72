import { connect, type IncomingHttpHeaders } from "node:http2";

/** What a raw gRPC call over HTTP/2 came back with: the status and message from its trailers. */
export interface RawGrpcAnswer {
  readonly status: number;
  readonly message: string;
  readonly trailers: IncomingHttpHeaders;
}

/** Frames `payload` as one gRPC message (uncompressed). */
export function grpcFrame(payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.byteLength, 1);
  return Buffer.concat([head, payload]);
}

/**
 * Sends one gRPC request with exactly the headers given, below any gRPC client library (which
 * would refuse or rewrite what these tests need to send).
 */
export async function rawGrpcCall(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<RawGrpcAnswer> {
  const session = connect(baseUrl);
  try {
    return await new Promise<RawGrpcAnswer>((resolve, reject) => {
      session.once("error", reject);
      const req = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
        ...headers,
      });
      let head: IncomingHttpHeaders = {};
      req.on("response", (h) => {
        head = h;
      });
      req.on("trailers", (t) => {
        head = { ...head, ...t };
      });
      req.on("data", () => {});
      req.on("end", () =>
        resolve({
          status: Number(head["grpc-status"]),
          message: decodeURIComponent(String(head["grpc-message"] ?? "")),
          trailers: head,
        }),
      );
      req.on("error", reject);
      req.end(body);
    });
  } finally {
    session.close();
  }
}
