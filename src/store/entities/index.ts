import { AuthEventSchema } from "./auth-event.entity.js";
import { AuthEventHorizonSchema } from "./auth-event-horizon.entity.js";
import { AuthSessionSchema } from "./auth-session.entity.js";
import { LarkAppSchema } from "./lark-app.entity.js";
import { LarkInboundEventSchema } from "./lark-inbound-event.entity.js";
import { TokenAccessAuditSchema } from "./token-access-audit.entity.js";
import { UserGrantSchema } from "./user-grant.entity.js";

export * from "./auth-event.entity.js";
export * from "./auth-event-horizon.entity.js";
export * from "./auth-session.entity.js";
export * from "./lark-app.entity.js";
export * from "./lark-inbound-event.entity.js";
export * from "./token-access-audit.entity.js";
export * from "./user-grant.entity.js";

/** Every entity, listed explicitly: no folder discovery, so a bundle or a test sees the same schema. */
export const ENTITIES = [
  LarkAppSchema,
  AuthSessionSchema,
  UserGrantSchema,
  AuthEventSchema,
  TokenAccessAuditSchema,
  AuthEventHorizonSchema,
  LarkInboundEventSchema,
];
