import { z } from "zod";
import type { EmulatorCore } from "../core.js";
import { controlError, json } from "../http/reply.js";
import type { Route } from "../http/types.js";
import type { RegisterAppInput } from "../store/directory.js";
import { verifyWebhookUrl } from "../webhook/delivery.js";
import { parseInput } from "./parse.js";
import { type AppView, appView } from "./views.js";

/** `POST /_emulator/apps`: everything optional; a caller may fix the id and secret (a sandbox's app). */
export const registerAppSchema = z
  .object({
    app_id: z
      .string()
      .regex(/^cli_[0-9a-fA-F]{16}$/, "must be cli_ followed by 16 hex digits")
      .optional(),
    app_secret: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    tenant_key: z.string().min(1).optional(),
    encrypt_key: z.string().min(1).optional(),
    verification_token: z.string().min(1).optional(),
    event_mode: z.enum(["websocket", "webhook"]).optional(),
    webhook_url: z.url().optional(),
    redirect_urls: z.array(z.url()).optional(),
    scopes: z.array(z.string().min(1)).optional(),
  })
  .strict();

/** Registers (or, for an existing `app_id`, re-registers) an app. */
export function registerApp(core: EmulatorCore, input: RegisterAppInput): AppView {
  return appView(core.directory.registerApp(input));
}

export function appRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/_emulator/apps",
      handler(req) {
        const input = parseInput(registerAppSchema, req);
        if (!input.ok) return input.reply;
        if (input.data.event_mode === "webhook" && !input.data.webhook_url) {
          return controlError(400, "event_mode webhook needs a webhook_url");
        }
        return json(201, registerApp(core, input.data));
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/apps",
      handler: () => json(200, { apps: core.directory.apps().map(appView) }),
    },
    {
      method: "POST",
      pattern: "/_emulator/apps/:app_id/verify-webhook",
      async handler(req) {
        const app = core.directory.app(req.params.app_id ?? "");
        if (!app?.webhookUrl) return controlError(404, "no app with a webhook_url has that id");
        const target = {
          webhookUrl: app.webhookUrl,
          encryptKey: app.encryptKey,
          verificationToken: app.verificationToken,
        };
        return json(200, { verified: await verifyWebhookUrl(target) });
      },
    },
  ];
}
