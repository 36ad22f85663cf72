import type { z } from "zod";
import { controlError } from "../http/reply.js";
import type { EmuRequest, Reply } from "../http/types.js";

export type Parsed<T> = { ok: true; data: T } | { ok: false; reply: Reply };

/** Validates a control-API body; a 400 naming every problem otherwise. */
export function parseInput<T extends z.ZodType>(schema: T, req: EmuRequest): Parsed<z.infer<T>> {
  if (req.bodyError) return { ok: false, reply: controlError(400, req.bodyError) };
  const result = schema.safeParse(req.body);
  if (result.success) return { ok: true, data: result.data };
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
  return { ok: false, reply: controlError(400, problems.join("; ")) };
}
