import { z } from "zod";
import type { EmulatorCore } from "../core.js";
import { controlError, json } from "../http/reply.js";
import type { Route } from "../http/types.js";
import { decideAuthorize, isProblem, parseAuthorize } from "../oauth/authorize.js";
import { DEVICE_VERIFY_PATH, decideDevice } from "../oauth/device.js";
import { findPendingDevice } from "../oauth/device-page.js";
import { parseInput } from "./parse.js";

export const decideSchema = z
  .object({
    url: z.string().min(1),
    open_id: z.string().min(1),
    decision: z.enum(["approve", "deny"]),
  })
  .strict();

export type DecideInput = z.infer<typeof decideSchema>;
export type DecideResult = { ok: true; redirect_url?: string } | { ok: false; status: number; error: string };

/**
 * Acts as the user on an authorize URL (returns the `redirect_url` the browser would follow) or on a
 * device verification URL (nothing to follow: the device's next poll sees the decision).
 */
export function decide(core: EmulatorCore, input: DecideInput): DecideResult {
  let url: URL;
  try {
    url = new URL(input.url, core.baseUrl());
  } catch {
    return { ok: false, status: 400, error: "url is not a URL" };
  }
  const user = core.directory.findUser(input.open_id);
  if (!user) return { ok: false, status: 400, error: "no user has that open_id" };
  const approve = input.decision === "approve";
  if (url.pathname.endsWith("/authen/v1/authorize")) {
    const request = parseAuthorize(core, url.searchParams);
    if (isProblem(request)) return { ok: false, status: 400, error: `${request.code}: ${request.message}` };
    if (user.tenantKey !== request.app.tenantKey)
      return { ok: false, status: 400, error: "the user is not in the app's tenant" };
    return { ok: true, redirect_url: decideAuthorize(core, request, user, approve) };
  }
  if (url.pathname.endsWith(DEVICE_VERIFY_PATH)) {
    const found = findPendingDevice(core, url.searchParams.get("user_code") ?? "");
    if (typeof found === "string") return { ok: false, status: 400, error: found };
    const refused = decideDevice(core, found, user, approve);
    return refused ? { ok: false, status: 400, error: refused } : { ok: true };
  }
  return { ok: false, status: 400, error: "url is neither an authorize URL nor a device verification URL" };
}

export function oauthControlRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/_emulator/oauth/decide",
      handler(req) {
        const input = parseInput(decideSchema, req);
        if (!input.ok) return input.reply;
        const result = decide(core, input.data);
        if (!result.ok) return controlError(result.status, result.error);
        return json(200, result.redirect_url ? { redirect_url: result.redirect_url } : {});
      },
    },
  ];
}
