import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { ADMIN_KEY, startTestApp, TEST_APP_ID, type TestApp } from "../support/test-app.js";

const PROTO_DIR = fileURLToPath(new URL("../../proto", import.meta.url));
const run = promisify(execFile);

/** A caller as a Go or Python service would be: stubs built from the .proto files at run time. */
function loadStubs() {
  const def = protoLoader.loadSync(["lark/auth/v1/auth_service.proto", "lark/auth/v1/token_service.proto"], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  // biome-ignore lint/suspicious/noExplicitAny: dynamic stubs are untyped by nature.
  return grpc.loadPackageDefinition(def) as any;
}

function metadata(): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${ADMIN_KEY}`);
  return md;
}

function reasonFrom(err: grpc.ServiceError): string | undefined {
  const bin = err.metadata.get("grpc-status-details-bin")[0];
  if (!Buffer.isBuffer(bin)) return undefined;
  const status = fromBinary(StatusSchema, bin);
  for (const any of status.details) {
    const info = anyUnpack(any, ErrorInfoSchema);
    if (info) return info.reason;
  }
  return undefined;
}

describe("a plain @grpc/grpc-js client built from the .proto files", () => {
  let t: TestApp;
  // biome-ignore lint/suspicious/noExplicitAny: dynamic stubs.
  let auth: any;
  beforeAll(async () => {
    t = await startTestApp();
    const stubs = loadStubs();
    auth = new stubs.lark.auth.v1.AuthService(
      `127.0.0.1:${t.app.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
  });
  afterAll(async () => {
    auth?.close();
    await t?.close();
  });

  it("calls a unary RPC and reads ErrorInfo from grpc-status-details-bin", async () => {
    const list = await new Promise<{ sessions: unknown[]; next_page_token: string }>((resolve, reject) =>
      auth.ListAuthSessions(
        { app_id: TEST_APP_ID, page_size: 10 },
        metadata(),
        (e: Error | null, r: never) => (e ? reject(e) : resolve(r)),
      ),
    );
    expect(list.sessions).toEqual([]);
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      auth.GetAuthSession(
        { session_id: "00000000-0000-4000-8000-000000000000" },
        metadata(),
        (e: grpc.ServiceError) => resolve(e),
      ),
    );
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(reasonFrom(err)).toBe("SESSION_NOT_FOUND");
  });

  it("opens a server stream and receives its status", async () => {
    const call = auth.WatchAuthEvents({ app_id: TEST_APP_ID, after_event_id: "not-a-cursor" }, metadata());
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      call.on("data", () => undefined);
      call.on("error", resolve);
    });
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(reasonFrom(err)).toBe("INVALID_ARGUMENT");
  });

  it("answers INVALID_ARGUMENT for a payload that is not the request message", async () => {
    const client = new grpc.Client(`127.0.0.1:${t.app.grpcPort}`, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      client.makeUnaryRequest(
        "/lark.auth.v1.AuthService/GetAuthSession",
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0a, 0xff, 0xff, 0xff]),
        metadata(),
        (e) => resolve(e as grpc.ServiceError),
      ),
    );
    client.close();
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("serves grpc.health.v1.Health without a caller key", async () => {
    const health = protoLoader.loadSync("health.proto", {
      includeDirs: [
        fileURLToPath(new URL("../../node_modules/grpc-health-check/proto/health/v1", import.meta.url)),
      ],
      enums: String,
    });
    // biome-ignore lint/suspicious/noExplicitAny: dynamic stubs.
    const pkg = grpc.loadPackageDefinition(health) as any;
    const client = new pkg.grpc.health.v1.Health(
      `127.0.0.1:${t.app.grpcPort}`,
      grpc.credentials.createInsecure(),
    );
    for (const service of ["", "lark.auth.v1.AuthService", "lark.auth.v1.TokenService"]) {
      const res = await new Promise<{ status: string }>((resolve, reject) =>
        client.Check({ service }, (e: Error | null, r: { status: string }) => (e ? reject(e) : resolve(r))),
      );
      expect(res.status).toBe("SERVING");
    }
    client.close();
  });

  it("serves reflection so buf curl needs no .proto files", async () => {
    const { stdout } = await run("node_modules/.bin/buf", [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "--list-methods",
      `http://127.0.0.1:${t.app.grpcPort}`,
    ]);
    expect(stdout).toContain("lark.auth.v1.AuthService/StartAuthorization");
    expect(stdout).toContain("lark.auth.v1.TokenService/GetUserAccessToken");
    expect(stdout).toContain("grpc.health.v1.Health/Check");
    const { stdout: body } = await run("node_modules/.bin/buf", [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      "-H",
      `authorization: Bearer ${ADMIN_KEY}`,
      "-d",
      JSON.stringify({ app_id: TEST_APP_ID }),
      `http://127.0.0.1:${t.app.grpcPort}/lark.auth.v1.AuthService/ListAuthSessions`,
    ]);
    expect(JSON.parse(body)).toEqual({});
    const { stdout: health } = await run("node_modules/.bin/buf", [
      "curl",
      "--protocol",
      "grpc",
      "--http2-prior-knowledge",
      `http://127.0.0.1:${t.app.grpcPort}/grpc.health.v1.Health/Check`,
    ]);
    expect(JSON.parse(health)).toEqual({ status: "SERVING" });
  });
});
