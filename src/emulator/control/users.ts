import { z } from "zod";
import type { EmulatorCore } from "../core.js";
import { controlError, json } from "../http/reply.js";
import type { Route } from "../http/types.js";
import { messageView } from "../openapi/message-wire.js";
import { type CreateUserInput, DEFAULT_TENANT_KEY } from "../store/directory.js";
import { parseInput } from "./parse.js";
import { type UserView, userView } from "./views.js";

export const createUserSchema = z
  .object({
    name: z.string().min(1),
    email: z.email().optional(),
    en_name: z.string().optional(),
    mobile: z.string().optional(),
    employee_no: z.string().optional(),
    tenant_key: z.string().min(1).optional(),
    seed: z.string().min(1).optional(),
    /** Whose open_id to return as `open_id` (open ids are per app). */
    app_id: z.string().optional(),
  })
  .strict();

/**
 * Creates a user; the same (tenant, seed) always yields the same ids, across restarts too. Open ids are per
 * app, so the tenant needs an app first; throws otherwise (the control API answers 400).
 */
export function createUser(core: EmulatorCore, input: CreateUserInput & { app_id?: string }): UserView {
  const app = input.app_id ? core.directory.app(input.app_id) : undefined;
  if (input.app_id && !app) throw new Error(`no app ${input.app_id} is registered`);
  const tenantKey = input.tenant_key ?? app?.tenantKey;
  const tenantApps = core.directory.apps().filter((a) => a.tenantKey === (tenantKey ?? DEFAULT_TENANT_KEY));
  if (tenantApps.length === 0) throw new Error("register an app in this tenant first: open ids are per app");
  const user = core.directory.createUser({ ...input, tenant_key: tenantKey });
  return userView(core, user, input.app_id);
}

/**
 * Revokes the user's grant: with an open_id, for the app it belongs to; otherwise for `appId`, or for
 * every app. Afterwards their access tokens answer 99991668 and refresh tokens 20064.
 */
export function revokeGrant(core: EmulatorCore, anyId: string, appId?: string): string[] | undefined {
  const user = core.directory.findUser(anyId);
  if (!user) return undefined;
  const target = appId ?? core.directory.appOfOpenId(anyId)?.appId;
  const apps = target ? [target] : core.grants.grantsOf(user.key).map((g) => g.appId);
  return apps.filter((app) => core.grants.revoke(app, user.key));
}

export function userRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/_emulator/users",
      handler(req) {
        const input = parseInput(createUserSchema, req);
        if (!input.ok) return input.reply;
        try {
          return json(201, createUser(core, input.data));
        } catch (err) {
          return controlError(400, (err as Error).message);
        }
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/users",
      handler(req) {
        const appId = req.query.get("app_id") ?? undefined;
        const users = core.directory.users(req.query.get("tenant_key") ?? undefined);
        return json(200, { users: users.map((u) => userView(core, u, appId)) });
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/users/:id/messages",
      handler(req) {
        const user = core.directory.findUser(req.params.id ?? "");
        if (!user) return controlError(404, "no user has that id");
        return json(200, { messages: core.messages.forUser(user.key).map((m) => messageView(core, m)) });
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/users/:id/revoke",
      handler(req) {
        const appId = typeof req.body.app_id === "string" ? req.body.app_id : undefined;
        const revoked = revokeGrant(core, req.params.id ?? "", appId);
        return revoked ? json(200, { revoked_app_ids: revoked }) : controlError(404, "no user has that id");
      },
    },
  ];
}
