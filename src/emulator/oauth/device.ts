import type { EmulatorCore } from "../core.js";
import { field } from "../http/body.js";
import { json } from "../http/reply.js";
import type { EmuRequest, Reply } from "../http/types.js";
import type { DeviceAuthorization } from "../store/devices.js";
import type { AppRecord, UserRecord } from "../store/directory.js";
import { authenticateClient } from "./client-auth.js";
import { deviceError, oauthError } from "./errors.js";
import { issueUserTokens } from "./issue.js";
import { splitScopes } from "./scopes.js";

export const DEVICE_VERIFY_PATH = "/oauth/v1/device/verify";

/** `POST /oauth/v1/device_authorization`: Basic client auth, form body `client_id`, `scope`. */
export function startDeviceAuthorization(core: EmulatorCore, req: EmuRequest): Reply {
  const app = authenticateClient(core, req);
  if ("status" in app)
    return json(401, {
      error: "invalid_client",
      error_description: "Client authentication failed.",
    });
  const scopes = splitScopes(field(req.body, "scope"));
  const disabled = app.scopes ? scopes.filter((s) => !app.scopes?.includes(s)) : [];
  if (disabled.length > 0)
    return json(400, {
      error: "invalid_scope",
      error_description: `Scopes not enabled: ${disabled.join(" ")}`,
    });
  const { deviceCodeTtlSeconds: ttl, devicePollIntervalSeconds: interval } = core.config;
  const auth = core.devices.create(app.appId, scopes, core.now(), ttl * 1000, interval * 1000);
  const verify = `${core.baseUrl()}${DEVICE_VERIFY_PATH}`;
  const complete = new URL(verify);
  complete.searchParams.set("flow_id", auth.flowId);
  complete.searchParams.set("user_code", auth.userCode);
  return json(200, {
    device_code: auth.deviceCode,
    user_code: auth.userCode,
    verification_uri: verify,
    verification_uri_complete: complete.toString(),
    expires_in: Math.ceil(ttl),
    interval: Math.ceil(interval),
  });
}

/**
 * Records the user's decision for a device code; approving records the grant right away. Only a user of
 * the app's tenant can decide, as on the authorize page; otherwise the reason, and nothing is recorded.
 */
export function decideDevice(
  core: EmulatorCore,
  auth: DeviceAuthorization,
  user: UserRecord,
  approve: boolean,
): string | undefined {
  if (core.directory.app(auth.appId)?.tenantKey !== user.tenantKey)
    return "the user is not in the app's tenant";
  if (approve) core.grants.approve(auth.appId, user.key, auth.scopes, core.now());
  const epoch = approve ? core.grants.grant(auth.appId, user.key)?.epoch : undefined;
  auth.decision = { userKey: user.key, approved: approve, epoch };
  return undefined;
}

/** Polling faster than the current interval is `slow_down`, and the interval grows by 5 s (RFC 8628). */
function pollTooSoon(auth: DeviceAuthorization, now: number): boolean {
  const tooSoon = auth.lastPollAt !== undefined && now - auth.lastPollAt < auth.intervalMs;
  auth.lastPollAt = now;
  if (tooSoon) auth.intervalMs += 5000;
  return tooSoon;
}

/** The device_code grant on the token endpoints. */
export function pollDeviceCode(core: EmulatorCore, app: AppRecord, req: EmuRequest): Reply {
  const value = field(req.body, "device_code");
  if (!value) return oauthError(20001, "device_code is required.");
  const auth = core.devices.byDeviceCode(value);
  if (!auth || auth.appId !== app.appId) return deviceError("invalid_grant", "The device code is invalid.");
  if (auth.consumed) return deviceError("invalid_grant", "The device code has already been used.");
  const now = core.now();
  if (auth.expiresAt <= now) return deviceError("expired_token", "The device code has expired.");
  if (pollTooSoon(auth, now)) return deviceError("slow_down", "Polling too frequently.");
  if (!auth.decision) return deviceError("authorization_pending", "The user has not yet authorized.");
  auth.consumed = true;
  if (!auth.decision.approved) return deviceError("access_denied", "The user denied the authorization.");
  const grant = core.grants.grant(app.appId, auth.decision.userKey);
  // Like a code, an approval dies with a revocation, even when the user approved again since.
  const current = { appId: app.appId, userKey: auth.decision.userKey, epoch: auth.decision.epoch ?? -1 };
  if (!grant || grant.revoked || !core.grants.isCurrent(current)) {
    return deviceError("access_denied", "The authorization was revoked.");
  }
  return issueUserTokens(core, grant, [...grant.scopes]);
}
