import { randomBytes, randomUUID } from "node:crypto";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { type AppRecord, syncApps } from "../../src/store/apps.js";
import type { Database } from "../../src/store/database.js";

/** The app factories use unless told otherwise; seedApp creates its row. */
export const FACTORY_APP_ID = "cli_f000000000000001";

/** A random, well-formed Lark open_id. */
export function openId(): string {
  return `ou_${randomBytes(16).toString("hex")}`;
}

/** Makes the `lark_app` rows that sessions, grants and events reference. */
export async function seedApp(db: Database, overrides: Partial<AppRecord> = {}): Promise<AppRecord> {
  const app: AppRecord = {
    appId: FACTORY_APP_ID,
    name: "Factory app",
    domain: "feishu",
    flow: "redirect",
    ...overrides,
  };
  await syncApps(db, [app]);
  return app;
}

/**
 * A valid session: pending by default, created now (whole milliseconds) and expiring in ten
 * minutes. A final `state` without `completeTime` completes a second after creation, and an
 * AUTHORIZED one without `identity` is resolved to the requested open_id (or a random one).
 */
export function buildSession(overrides: Partial<AuthSession> = {}): AuthSession {
  const createTime = overrides.createTime ?? new Date(Date.now());
  const user = overrides.user ?? { kind: "open_id" as const, value: openId() };
  const state = overrides.state ?? "PENDING";
  const base: AuthSession = {
    id: randomUUID(),
    appId: FACTORY_APP_ID,
    user,
    state,
    flow: "REDIRECT",
    requestedScopes: ["contact:user.base:readonly", "offline_access"],
    createTime,
    expireTime: new Date(createTime.getTime() + 600_000),
  };
  if (state !== "PENDING") Object.assign(base, { completeTime: new Date(createTime.getTime() + 1000) });
  if (state === "AUTHORIZED") {
    Object.assign(base, { identity: { openId: user.kind === "open_id" ? user.value : openId() } });
  }
  if (state === "FAILED")
    Object.assign(base, { failureReason: "LARK_ERROR", failureMessage: "token exchange failed" });
  return { ...base, ...overrides };
}
