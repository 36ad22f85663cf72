import { TokenService } from "../../../gen/lark/auth/v1/token_service_pb.js";
import type { ServiceImpl } from "../pipeline.js";
import { notImplemented } from "./unimplemented.js";

/** TokenService: every method answers UNIMPLEMENTED until the tokens issue lands. */
export function createTokenServiceHandlers(): ServiceImpl<typeof TokenService> {
  return notImplemented(TokenService, [
    "getUserAccessToken",
    "refreshUserAccessToken",
    "revokeUserAuthorization",
    "getUserInfo",
    "getTenantAccessToken",
  ]);
}
