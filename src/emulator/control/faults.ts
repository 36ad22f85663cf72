import type { EmulatorCore } from "../core.js";
import { type FaultInput, faultSchema } from "../faults.js";
import { controlError, json } from "../http/reply.js";
import type { Route } from "../http/types.js";
import { parseInput } from "./parse.js";

export type AddFaultResult = { ok: true; id?: string } | { ok: false; error: string };

/** Adds an HTTP fault (needs `path`) and/or applies WebSocket faults (at once or until cleared). */
export function addFault(core: EmulatorCore, input: FaultInput): AddFaultResult {
  const ws =
    input.drop_connections || input.refuse_connections !== undefined || input.half_open !== undefined;
  if (!input.path && !ws) return { ok: false, error: "give a path (HTTP fault) or a WebSocket fault" };
  let id: string | undefined;
  if (input.path) {
    try {
      id = core.faults.add({ ...input, path: input.path }).id;
    } catch (err) {
      return { ok: false, error: `bad path pattern: ${(err as Error).message}` };
    }
  }
  if (input.refuse_connections !== undefined) core.hub.faults.refuseConnections(input.refuse_connections);
  if (input.half_open !== undefined) core.hub.faults.halfOpen(input.half_open);
  if (input.drop_connections) core.hub.faults.dropConnections(input.app_id);
  return { ok: true, id };
}

/** Removes every HTTP fault and ends refused and half-open WebSocket modes. */
export function clearFaults(core: EmulatorCore): void {
  core.faults.clear();
  core.hub.faults.refuseConnections(false);
  core.hub.faults.halfOpen(false);
}

export function faultRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/_emulator/faults",
      handler(req) {
        const input = parseInput(faultSchema, req);
        if (!input.ok) return input.reply;
        const result = addFault(core, input.data);
        return result.ok
          ? json(201, { id: result.id ?? null, faults: core.faults.list() })
          : controlError(400, result.error);
      },
    },
    { method: "GET", pattern: "/_emulator/faults", handler: () => json(200, { faults: core.faults.list() }) },
    {
      method: "DELETE",
      pattern: "/_emulator/faults",
      handler() {
        clearFaults(core);
        return json(200, { faults: [] });
      },
    },
    {
      method: "DELETE",
      pattern: "/_emulator/faults/:id",
      handler(req) {
        return core.faults.remove(req.params.id ?? "")
          ? json(200, { faults: core.faults.list() })
          : controlError(404, "no such fault");
      },
    },
  ];
}
