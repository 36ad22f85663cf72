import { z } from "zod";
import { actOnCard } from "../cards/action.js";
import type { EmulatorCore } from "../core.js";
import { controlError, json } from "../http/reply.js";
import type { Route } from "../http/types.js";
import { parseInput } from "./parse.js";

const actionSchema = z
  .object({
    operator_open_id: z.string().min(1),
    value: z.unknown().optional(),
    index: z.number().int().nonnegative().optional(),
  })
  .strict();

export function cardRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: "POST",
      pattern: "/_emulator/cards/:message_id/actions",
      async handler(req) {
        const input = parseInput(actionSchema, req);
        if (!input.ok) return input.reply;
        const result = await actOnCard(core, req.params.message_id ?? "", input.data);
        if (!result.ok) return controlError(result.status, result.error);
        const { ok: _ok, ...body } = result;
        return json(200, body);
      },
    },
  ];
}
