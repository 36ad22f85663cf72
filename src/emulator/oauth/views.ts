import { userView as controlUserView } from "../control/views.js";
import type { EmulatorCore } from "../core.js";
import type { EmulatorUserView } from "../pages/index.js";
import type { AppRecord, UserRecord } from "../store/directory.js";

/** A user as the pages show them: the control API's view, trimmed, so both pick the same open_id. */
export function userView(core: EmulatorCore, user: UserRecord, appId?: string): EmulatorUserView {
  const { open_id, name, email, tenant_key } = controlUserView(core, user, appId);
  return { open_id, name, email, tenant_key };
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
