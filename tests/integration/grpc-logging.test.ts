import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetAuthSessionRequestSchema } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { grpcFrame, rawGrpcCall } from "../support/raw-grpc.js";
import { ADMIN_KEY, startTestApp, type TestApp } from "../support/test-app.js";

const PATH = "/lark.auth.v1.AuthService/GetAuthSession";
const body = grpcFrame(
  toBinary(
    GetAuthSessionRequestSchema,
    create(GetAuthSessionRequestSchema, { sessionId: "00000000-0000-4000-8000-000000000000" }),
  ),
);

describe("grpc-js's own diagnostics", () => {
  let t: TestApp;
  const stderr: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const error = console.error;
  beforeAll(async () => {
    t = await startTestApp();
    // grpc-js's default logger writes to console.error (which writes to process.stderr).
    process.stderr.write = ((chunk: unknown, ...rest: never[]) => {
      stderr.push(String(chunk));
      return write(chunk as never, ...rest);
    }) as typeof process.stderr.write;
    console.error = (...args: unknown[]) => stderr.push(args.map(String).join(" "));
  });
  afterAll(async () => {
    process.stderr.write = write;
    console.error = error;
    await t?.close();
  });

  it("never print a caller key that grpc-js refused as metadata (Bearer + non-ASCII space)", async () => {
    const answer = await rawGrpcCall(t.grpcUrl, PATH, { authorization: `Bearer\u00a0${ADMIN_KEY}` }, body);
    // grpc-js drops the whole entry before any handler runs, so it reads as no authorization at all.
    expect(answer.status).toBe(16);
    // The caller is told why a header it did send may not have arrived.
    expect(answer.message).toContain("ASCII only");
    expect(stderr.join("")).not.toContain(ADMIN_KEY);
    expect(t.logs.lines.join("\n")).not.toContain(ADMIN_KEY);
    const dropped = t.logs.records().find((r) => r.component === "grpc-js");
    expect(dropped?.msg).toContain('dropped request metadata entry "authorization"');
    expect(dropped?.level).toBe("warn");
  });
});
