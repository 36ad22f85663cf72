import { DomainError, DomainErrorCode } from "./errors.js";

/** The permissions a caller can hold per app. */
export type Permission = "auth:start" | "auth:read" | "auth:watch" | "token:read" | "token:revoke";

/** An authenticated internal service calling us. */
export interface Caller {
  readonly name: string;
  /** True when the caller holds `permission` on `appId`. */
  can(permission: Permission, appId: string): boolean;
}

/** Throws PERMISSION_DENIED unless `caller` holds `permission` on `appId`. */
export function assertCan(caller: Caller, permission: Permission, appId: string): void {
  if (!caller.can(permission, appId)) {
    throw new DomainError(
      DomainErrorCode.PERMISSION_DENIED,
      `caller "${caller.name}" lacks ${permission} on app ${appId}`,
      { metadata: { permission, app_id: appId } },
    );
  }
}
