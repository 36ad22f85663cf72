import type { EmulatorCore } from "../core.js";
import type { EmulatorUserView } from "../pages/index.js";
import type { AppRecord, UserRecord } from "../store/directory.js";

/** A user as the pages show them, with the open_id of the app in question. */
export function userView(core: EmulatorCore, user: UserRecord, appId?: string): EmulatorUserView {
  const app = appId ?? core.directory.apps().find((a) => a.tenantKey === user.tenantKey)?.appId;
  return {
    open_id: app ? core.directory.openId(user, app) : user.unionId,
    name: user.name,
    email: user.email,
    tenant_key: user.tenantKey,
  };
}

/** Everyone who can sign in to this app (its tenant's users), and who is signed in per the cookie. */
export function pageUsers(core: EmulatorCore, app: AppRecord, cookieOpenId: string | undefined) {
  const users = core.directory.users(app.tenantKey).map((u) => userView(core, u, app.appId));
  const signedIn = cookieOpenId ? core.directory.findUser(cookieOpenId) : undefined;
  const currentUser =
    signedIn && signedIn.tenantKey === app.tenantKey ? userView(core, signedIn, app.appId) : undefined;
  return { users, currentUser };
}

/** Cookie that marks the user "signed in" to the emulated Lark web pages. */
export const userCookie = (openId: string): string =>
  `emulator_user=${encodeURIComponent(openId)}; Path=/; HttpOnly; SameSite=Lax`;
