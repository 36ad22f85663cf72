import type { EmulatorCore } from "../core.js";
import type { AppRecord, UserRecord } from "../store/directory.js";

/** An app as `/_emulator/apps` shows it (secrets included: this is a test double). */
export function appView(app: AppRecord) {
  return {
    app_id: app.appId,
    app_secret: app.appSecret,
    name: app.name,
    tenant_key: app.tenantKey,
    verification_token: app.verificationToken,
    encrypt_key: app.encryptKey ?? null,
    event_mode: app.eventMode,
    webhook_url: app.webhookUrl ?? null,
    redirect_urls: app.redirectUrls,
    scopes: app.scopes ?? null,
  };
}

export type AppView = ReturnType<typeof appView>;

/**
 * A user as `/_emulator/users` shows them. `open_id` is the id in `appId` (or in the tenant's first app:
 * users are only created in tenants that have an app); `open_ids` lists it for every app of the tenant,
 * since open ids are per app.
 */
export function userView(core: EmulatorCore, user: UserRecord, appId?: string) {
  const apps = core.directory.apps().filter((a) => a.tenantKey === user.tenantKey);
  const open_ids = Object.fromEntries(apps.map((a) => [a.appId, core.directory.openId(user, a.appId)]));
  const primary = appId ?? apps[0]?.appId;
  return {
    open_id: primary ? core.directory.openId(user, primary) : "",
    open_ids,
    user_id: user.userId,
    union_id: user.unionId,
    name: user.name,
    en_name: user.enName,
    email: user.email,
    mobile: user.mobile ?? null,
    tenant_key: user.tenantKey,
  };
}

export type UserView = ReturnType<typeof userView>;
