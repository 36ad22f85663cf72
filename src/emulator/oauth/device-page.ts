import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import { html } from "../http/reply.js";
import type { EmuRequest, Reply, Route } from "../http/types.js";
import { renderDeviceVerifyPage, renderResultPage } from "../pages/index.js";
import type { DeviceAuthorization } from "../store/devices.js";
import { DEVICE_VERIFY_PATH, decideDevice, startDeviceAuthorization } from "./device.js";
import { pageUsers, userCookie } from "./views.js";

/** A device code the user can still act on, or why not. */
export function findPendingDevice(core: EmulatorCore, userCode: string): DeviceAuthorization | string {
  const auth = userCode ? core.devices.byUserCode(userCode) : undefined;
  if (!auth) return "Unknown code: check the code shown on your device.";
  if (auth.expiresAt <= core.now()) return "This code has expired: start again on your device.";
  if (auth.decision || auth.consumed) return "This code has already been used.";
  return auth;
}

function verifyPage(core: EmulatorCore, req: EmuRequest, userCode: string, error?: string): Reply {
  const found = userCode ? findPendingDevice(core, userCode) : undefined;
  const auth = typeof found === "object" ? found : undefined;
  const app = core.directory.app(auth?.appId ?? "") ?? core.directory.apps()[0];
  if (!app)
    return html(404, renderResultPage({ title: "No app", message: "No app is registered.", ok: false }));
  const { users, currentUser } = pageUsers(core, app, req.cookies.emulator_user);
  const page = renderDeviceVerifyPage({
    app: { app_id: app.appId, name: app.name },
    scopes: auth?.scopes ?? [],
    currentUser,
    users,
    formAction: DEVICE_VERIFY_PATH,
    hidden: {},
    userCode: auth?.userCode,
    error: error ?? (typeof found === "string" ? found : undefined),
  });
  return html(error ? 400 : 200, page);
}

function submitVerify(core: EmulatorCore, req: EmuRequest): Reply {
  const userCode = field(req.body, "user_code");
  const found = findPendingDevice(core, userCode);
  if (typeof found === "string") return verifyPage(core, req, "", found);
  const approve = field(req.body, "decision") === "approve";
  const user = core.directory.findUser(field(req.body, "open_id"));
  if (!user) return verifyPage(core, req, userCode, "Choose an account first.");
  const refused = decideDevice(core, found, user, approve);
  if (refused) return verifyPage(core, req, userCode, `Choose a user of the app's tenant: ${refused}.`);
  const message = approve ? "You can return to your device." : "The request was declined.";
  const page = renderResultPage({ title: approve ? "Authorized" : "Declined", message, ok: approve });
  return html(200, page, { "set-cookie": userCookie(core.directory.openId(user, found.appId)) });
}

export function deviceRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/oauth/v1/device_authorization",
      openPlatform: true,
      rateLimited: true,
      handler: (req) => startDeviceAuthorization(core, req),
    },
    {
      method: "GET",
      pattern: DEVICE_VERIFY_PATH,
      openPlatform: true,
      handler: (req) => verifyPage(core, req, req.query.get("user_code") ?? ""),
    },
    {
      method: "POST",
      pattern: DEVICE_VERIFY_PATH,
      openPlatform: true,
      handler: (req) => submitVerify(core, req),
    },
  ];
}
