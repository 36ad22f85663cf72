// The Node client of lark-auth-service: what another service imports as "lark-auth-service/client".

export type { AuthEvent, AuthSession, UserIdentity } from "../../gen/lark/auth/v1/types_pb.js";
export { AuthEventType, AuthSessionState, DescriptionStyle } from "../../gen/lark/auth/v1/types_pb.js";
export type { Authorization, AuthorizeOptions } from "./authorize.js";
export { createLarkAuthClient, type LarkAuthClient, type LarkAuthClientOptions } from "./client.js";
export {
  AuthorizationNotGrantedError,
  AuthorizationRequiredError,
  LarkApiError,
  LarkAuthError,
  toLarkAuthError,
} from "./errors.js";
export type { LarkFetchInit } from "./lark-fetch.js";
export type { RetryOptions } from "./retry.js";
export type { ConnectionOptions } from "./transport.js";
export type { User } from "./user.js";
