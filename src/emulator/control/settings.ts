import { z } from "zod";
import { applyConfigPatch, configPatchSchema, configToWire } from "../config.js";
import type { EmulatorCore } from "../core.js";
import { json } from "../http/reply.js";
import type { Route } from "../http/types.js";
import { parseInput } from "./parse.js";

/** Platform knobs plus the long-connection timings handed to SDK clients (seconds). */
const settingsSchema = configPatchSchema.extend({
  ws_ping_interval: z.number().positive().optional(),
  ws_reconnect_count: z.number().int().min(-1).optional(),
  ws_reconnect_interval: z.number().positive().optional(),
  ws_reconnect_nonce: z.number().nonnegative().optional(),
});

export type SettingsInput = z.infer<typeof settingsSchema>;

export function configure(core: EmulatorCore, input: SettingsInput): Record<string, number> {
  const { ws_ping_interval, ws_reconnect_count, ws_reconnect_interval, ws_reconnect_nonce, ...platform } =
    input;
  applyConfigPatch(core.config, platform);
  const ws = {
    ...(ws_ping_interval !== undefined ? { PingInterval: ws_ping_interval } : {}),
    ...(ws_reconnect_count !== undefined ? { ReconnectCount: ws_reconnect_count } : {}),
    ...(ws_reconnect_interval !== undefined ? { ReconnectInterval: ws_reconnect_interval } : {}),
    ...(ws_reconnect_nonce !== undefined ? { ReconnectNonce: ws_reconnect_nonce } : {}),
  };
  if (Object.keys(ws).length > 0) core.hub.setClientConfig(ws);
  return configToWire(core.config);
}

export function settingsRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/_emulator/config",
      handler(req) {
        const input = parseInput(settingsSchema, req);
        return input.ok ? json(200, configure(core, input.data)) : input.reply;
      },
    },
    { method: "GET", pattern: "/_emulator/config", handler: () => json(200, configToWire(core.config)) },
    {
      method: "GET",
      pattern: "/_emulator/calls",
      handler(req) {
        const filter = {
          appId: req.query.get("app_id") ?? undefined,
          path: req.query.get("path") ?? undefined,
        };
        const calls = core.calls.list(filter);
        return json(200, { calls, total: calls.reduce((sum, c) => sum + c.count, 0) });
      },
    },
    {
      method: "DELETE",
      pattern: "/_emulator/calls",
      handler() {
        core.calls.reset();
        return json(200, { calls: [], total: 0 });
      },
    },
  ];
}
