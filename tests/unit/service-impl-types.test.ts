import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AuthService, GetAuthSessionResponseSchema } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { TokenService } from "../../gen/lark/auth/v1/token_service_pb.js";
import { bindService, type ServiceImpl } from "../../src/rpc/pipeline.js";
import { notImplemented } from "../../src/rpc/services/unimplemented.js";

// The assertions that matter here are checked by `npm run typecheck` (tsconfig includes tests/):
// each @ts-expect-error fails the type check if the line below it ever compiles.

const others = [
  "startAuthorization",
  "cancelAuthSession",
  "completeAuthorization",
  "watchAuthEvents",
] as const;
const listAuthSessions: ServiceImpl<typeof AuthService>["listAuthSessions"] = async () => {
  throw new Error("not called");
};

describe("handlers typed from the service descriptors", () => {
  it("rejects a misspelt handler, a missing one and an unknown unimplemented name at compile time", () => {
    const ok: ServiceImpl<typeof AuthService> = {
      ...notImplemented(AuthService, others),
      getAuthSession: async (req) =>
        create(GetAuthSessionResponseSchema, { session: { sessionId: req.sessionId } }),
      listAuthSessions,
    };
    const misspelt: ServiceImpl<typeof AuthService> = {
      ...notImplemented(AuthService, others),
      // @ts-expect-error a misspelt handler name does not compile
      getAuthSesion: async () => create(GetAuthSessionResponseSchema),
      listAuthSessions,
    };
    // @ts-expect-error a handler left out does not compile
    const missing: ServiceImpl<typeof AuthService> = {
      ...notImplemented(AuthService, others),
      listAuthSessions,
    };
    // @ts-expect-error the unimplemented list names only methods of the service
    notImplemented(TokenService, ["getUserAccessTokens"]);
    const wrongAnswer: ServiceImpl<typeof AuthService> = {
      ...notImplemented(AuthService, others),
      // @ts-expect-error a handler answers with its own method's response type
      getAuthSession: async () => create(GetAuthSessionResponseSchema).session,
      listAuthSessions,
    };
    expect(bindService(AuthService, ok).map(([m]) => m.name)).toEqual(AuthService.methods.map((m) => m.name));
    expect([misspelt, missing, wrongAnswer]).toHaveLength(3);
  });

  it("refuses at start-up an implementation that lacks a method despite the types (a cast)", () => {
    const partial = { listAuthSessions } as unknown as ServiceImpl<typeof AuthService>;
    expect(() => bindService(AuthService, partial)).toThrow(/no handler for/);
  });
});
