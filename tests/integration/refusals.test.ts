import { gzipSync } from "node:zlib";
import { fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { grpcFrame, rawGrpcCall } from "../support/raw-grpc.js";
import { ADMIN_KEY, startTestApp, type TestApp } from "../support/test-app.js";

const PATH = "/lark.auth.v1.AuthService/GetAuthSession";
const NOT_VALID = "request is not a valid lark.auth.v1.GetAuthSessionRequest";
/** Not protobuf: a field header announcing 16 bytes, then two. */
const GARBAGE = Uint8Array.from([0x0a, 0x10, 0x41, 0x42]);
const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };

interface Refusal {
  code: string;
  message: string;
  reason?: string;
}

/** A Connect unary call with a raw body; the error's code, message and ErrorInfo reason. */
async function connectCall(t: TestApp, headers: Record<string, string>, body: Uint8Array | string) {
  const res = await fetch(`${t.httpUrl}${PATH}`, { method: "POST", headers, body });
  const json = (await res.json()) as {
    code: string;
    message: string;
    details?: { type: string; value: string }[];
  };
  const info = json.details?.find((d) => d.type === "google.rpc.ErrorInfo");
  const reason = info ? fromBinary(ErrorInfoSchema, base64Decode(info.value)).reason : undefined;
  return { status: res.status, refusal: { code: json.code, message: json.message, reason } as Refusal };
}

/** A gRPC-Web call with a raw message; the status, message and ErrorInfo from its trailers. */
async function grpcWebCall(t: TestApp, headers: Record<string, string>, payload: Uint8Array) {
  const res = await fetch(`${t.httpUrl}${PATH}`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", ...headers },
    body: grpcFrame(payload),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const trailer = new Map<string, string>(res.headers);
  if (bytes.length > 5) {
    for (const line of Buffer.from(bytes.subarray(5)).toString("latin1").split("\r\n")) {
      const at = line.indexOf(":");
      if (at > 0) trailer.set(line.slice(0, at).toLowerCase(), line.slice(at + 1).trim());
    }
  }
  return statusOf(
    trailer.get("grpc-status"),
    trailer.get("grpc-message"),
    trailer.get("grpc-status-details-bin"),
  );
}

function statusOf(code?: string, message?: string, details?: string) {
  const status = details ? fromBinary(StatusSchema, Buffer.from(details, "base64")) : undefined;
  const info = status?.details.find((d) => d.typeUrl.endsWith("google.rpc.ErrorInfo"));
  return {
    code: Number(code),
    message: decodeURIComponent(message ?? ""),
    reason: info ? fromBinary(ErrorInfoSchema, info.value).reason : undefined,
  };
}

async function grpcCall(
  t: TestApp,
  headers: Record<string, string>,
  payload: Uint8Array,
  compressed = false,
) {
  const frame = grpcFrame(payload);
  if (compressed) frame[0] = 1;
  const a = await rawGrpcCall(t.grpcUrl, PATH, headers, frame);
  return statusOf(String(a.status), a.message, a.trailers["grpc-status-details-bin"] as string | undefined);
}

/** How often /metrics says `transport` refused a request for `reason`. */
async function refusedCount(t: TestApp, transport: string, reason: string): Promise<number> {
  const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const line = `lark_auth_requests_refused_total{transport="${transport}",reason="${reason}"} `;
  const at = metrics.indexOf(line);
  return at < 0 ? 0 : Number.parseFloat(metrics.slice(at + line.length).split("\n")[0] ?? "0");
}

/** Runs `call`, then expects one more refusal counted for `reason` on the gRPC port. */
async function counted<T>(t: TestApp, reason: string, call: () => Promise<T>): Promise<T> {
  const before = await refusedCount(t, "grpc", reason);
  const result = await call();
  expect(await refusedCount(t, "grpc", reason)).toBe(before + 1);
  return result;
}

describe("refused requests answer alike on every transport, after authentication, and are counted", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it("an undecodable body is INVALID_ARGUMENT with ErrorInfo and one message everywhere", async () => {
    const proto = await connectCall(t, { "content-type": "application/proto", ...AUTH }, GARBAGE);
    expect(proto.status).toBe(400);
    expect(proto.refusal).toEqual({
      code: "invalid_argument",
      message: NOT_VALID,
      reason: "INVALID_ARGUMENT",
    });
    const json = await connectCall(t, { "content-type": "application/json", ...AUTH }, "{not json");
    expect(json.refusal).toEqual({
      code: "invalid_argument",
      message: NOT_VALID,
      reason: "INVALID_ARGUMENT",
    });
    const web = await grpcWebCall(t, AUTH, GARBAGE);
    expect(web).toEqual({ code: 3, message: NOT_VALID, reason: "INVALID_ARGUMENT" });
    const grpc = await counted(t, "undecodable", () => grpcCall(t, AUTH, GARBAGE));
    expect(grpc).toEqual({ code: 3, message: NOT_VALID, reason: "INVALID_ARGUMENT" });
  });

  it("garbage from a caller without a key is UNAUTHENTICATED everywhere, recorded as a call", async () => {
    const proto = await connectCall(t, { "content-type": "application/proto" }, GARBAGE);
    expect([proto.status, proto.refusal.code, proto.refusal.reason]).toEqual([
      401,
      "unauthenticated",
      "UNAUTHENTICATED",
    ]);
    expect((await grpcWebCall(t, {}, GARBAGE)).code).toBe(16);
    expect((await grpcCall(t, {}, GARBAGE)).code).toBe(16);
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /lark_auth_rpc_duration_seconds_count\{method="GetAuthSession",code="UNAUTHENTICATED",reason="UNAUTHENTICATED"\} [3-9]/,
    );
    expect(metrics).toMatch(
      /lark_auth_rpc_duration_seconds_count\{method="GetAuthSession",code="INVALID_ARGUMENT",reason="INVALID_ARGUMENT"\} [1-9]/,
    );
  });

  it("unsupported compression is UNIMPLEMENTED and a corrupt gzip body INVALID_ARGUMENT, with ErrorInfo", async () => {
    const br = await connectCall(
      t,
      { "content-type": "application/proto", "content-encoding": "br", ...AUTH },
      GARBAGE,
    );
    expect([br.refusal.code, br.refusal.reason]).toEqual(["unimplemented", "UNSUPPORTED_ENCODING"]);
    const corrupt = await connectCall(
      t,
      { "content-type": "application/proto", "content-encoding": "gzip", ...AUTH },
      GARBAGE,
    );
    expect(corrupt.refusal).toEqual({
      code: "invalid_argument",
      message: NOT_VALID,
      reason: "INVALID_ARGUMENT",
    });
    const zipped = await connectCall(
      t,
      { "content-type": "application/proto", "content-encoding": "gzip", ...AUTH },
      gzipSync(GARBAGE),
    );
    expect(zipped.refusal.message).toBe(NOT_VALID);
  });

  it("an oversized body is RESOURCE_EXHAUSTED with ErrorInfo and one message on both ports", async () => {
    const big = new Uint8Array(1024 * 1024 + 10);
    const connect = await connectCall(t, { "content-type": "application/proto", ...AUTH }, big);
    expect([connect.refusal.code, connect.refusal.reason]).toEqual([
      "resource_exhausted",
      "REQUEST_TOO_LARGE",
    ]);
    const grpc = await counted(t, "too_large", () => grpcCall(t, AUTH, big));
    expect(grpc).toEqual({ code: 8, message: connect.refusal.message, reason: "REQUEST_TOO_LARGE" });
  });

  it("shows every refusal in /metrics by reason, including a wrong media type (415)", async () => {
    const res = await fetch(`${t.httpUrl}${PATH}`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    expect(res.status).toBe(415);
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
    for (const reason of ["undecodable", "unsupported_encoding", "too_large", "unsupported_media_type"])
      expect(metrics).toContain(`lark_auth_requests_refused_total{transport="http",reason="${reason}"}`);
  });

  describe("the requests grpc-js refuses before a handler runs are answered as the HTTP port answers them", () => {
    it("a corrupt gzip message is INVALID_ARGUMENT (grpc-js: INTERNAL), with ErrorInfo", async () => {
      const grpc = await counted(t, "undecodable", () =>
        grpcCall(t, { "grpc-encoding": "gzip", ...AUTH }, GARBAGE, true),
      );
      expect(grpc).toEqual({ code: 3, message: NOT_VALID, reason: "INVALID_ARGUMENT" });
    });

    it("an unsupported grpc-encoding is UNIMPLEMENTED with reason UNSUPPORTED_ENCODING", async () => {
      const connect = await connectCall(
        t,
        { "content-type": "application/proto", "content-encoding": "br", ...AUTH },
        GARBAGE,
      );
      const grpc = await counted(t, "unsupported_encoding", () =>
        grpcCall(t, { "grpc-encoding": "br", ...AUTH }, GARBAGE, true),
      );
      expect(grpc).toEqual({ code: 12, message: connect.refusal.message, reason: "UNSUPPORTED_ENCODING" });
    });

    it("a malformed grpc-timeout is INVALID_ARGUMENT (grpc-js: INTERNAL), as gRPC-Web answers it", async () => {
      const headers = { "grpc-timeout": "soon", ...AUTH };
      const web = await grpcWebCall(t, headers, new Uint8Array());
      expect(web).toEqual({
        code: 3,
        message: "the request's timeout header is not a valid timeout",
        reason: "INVALID_ARGUMENT",
      });
      expect(await refusedCount(t, "http", "invalid_timeout")).toBeGreaterThan(0);
      const grpc = await counted(t, "invalid_timeout", () => grpcCall(t, headers, new Uint8Array()));
      expect(grpc).toEqual(web);
    });

    it("a message over grpc-js's receive limit, sent or once inflated, is REQUEST_TOO_LARGE", async () => {
      const connect = await connectCall(
        t,
        { "content-type": "application/proto", ...AUTH },
        new Uint8Array(1024 * 1024 + 10),
      );
      const expected = { code: 8, message: connect.refusal.message, reason: "REQUEST_TOO_LARGE" };
      const huge = await counted(t, "too_large", () =>
        grpcCall(t, AUTH, new Uint8Array(4 * 1024 * 1024 + 10)),
      );
      expect(huge).toEqual(expected);
      const bomb = gzipSync(new Uint8Array(4 * 1024 * 1024 + 10));
      const inflated = await counted(t, "too_large", () =>
        grpcCall(t, { "grpc-encoding": "gzip", ...AUTH }, bomb, true),
      );
      expect(inflated).toEqual(expected);
    });
  });
});
