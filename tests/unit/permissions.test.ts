import { describe, expect, expectTypeOf, it } from "vitest";
import { AuthService } from "../../gen/lark/auth/v1/auth_service_pb.js";
import { TokenService } from "../../gen/lark/auth/v1/token_service_pb.js";
import { PERMISSIONS } from "../../src/config/index.js";
import type { Permission as ConfigPermission } from "../../src/config/types.js";
import type { Permission as DomainPermission } from "../../src/domain/callers.js";
import { METHOD_PERMISSIONS } from "../../src/rpc/interceptors/auth.js";

// config/ and domain/ may not import each other, so each names the permissions; this keeps them one list.
describe("permissions", () => {
  it("are the contract's five, the same in config and domain, and every RPC needs one of them", () => {
    expect([...PERMISSIONS].sort()).toEqual([
      "auth:read",
      "auth:start",
      "auth:watch",
      "token:read",
      "token:revoke",
    ]);
    expectTypeOf<ConfigPermission>().toEqualTypeOf<DomainPermission>();
    for (const permission of Object.values(METHOD_PERMISSIONS)) expect(PERMISSIONS).toContain(permission);
    const methods = [...AuthService.methods, ...TokenService.methods].map((m) => m.name).sort();
    expect(Object.keys(METHOD_PERMISSIONS).sort()).toEqual(methods);
  });
});
