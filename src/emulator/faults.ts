import { z } from "zod";

/** The `POST /_emulator/faults` body. HTTP faults need `path`; WebSocket faults stand alone. */
export const faultSchema = z
  .object({
    /** A glob (`*` any run of characters, `?` one) or a `/regex/` matched against the request path. */
    path: z.string().min(1).optional(),
    method: z.string().optional(),
    /** Only requests attributed to this app. */
    app_id: z.string().optional(),
    /** HTTP status to answer with (default: 429 for 99991400, 500/503 for 20050/20072, else 400). */
    status: z.number().int().min(200).max(599).optional(),
    /** Lark error code to put in the body; without it, a status-only fault answers a bare error body. */
    code: z.number().int().optional(),
    msg: z.string().optional(),
    /** Delay added before the request is handled (or before the fault answers). */
    latency_ms: z.number().int().nonnegative().optional(),
    /** Never answer; the connection stays open until the client gives up. */
    timeout: z.boolean().optional(),
    /** Do the work (e.g. rotate the refresh token), then reset the connection instead of answering. */
    reset_after_commit: z.boolean().optional(),
    /** How many matching requests the fault affects; unlimited when absent. */
    count: z.number().int().positive().optional(),
    /** Close every long connection now (of `app_id` when given); clients reconnect. */
    drop_connections: z.boolean().optional(),
    /** Refuse new long connections (upgrade rejected) until cleared. */
    refuse_connections: z.boolean().optional(),
    /** Keep sockets open but stop answering pings and delivering, until cleared. */
    half_open: z.boolean().optional(),
  })
  .strict();

export type FaultInput = z.infer<typeof faultSchema>;

/** An active HTTP fault. */
export interface HttpFault {
  id: string;
  pattern: RegExp;
  source: FaultInput;
  remaining: number;
}

/**
 * Turns a path pattern into a RegExp. A pattern starting with `^`, or written `/body/flags` with a body
 * starting with `^` or containing a backslash, is a regular expression; anything else is a glob where `*`
 * matches any run of characters and `?` one character, anchored at both ends.
 */
export function compilePathPattern(pattern: string): RegExp {
  if (pattern.startsWith("^")) return new RegExp(pattern);
  const literal = /^\/(.+)\/([dgimsuy]*)$/.exec(pattern);
  const body = literal?.[1];
  if (body !== undefined && (body.startsWith("^") || body.includes("\\"))) {
    return new RegExp(body, literal?.[2]);
  }
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/** HTTP faults in insertion order; the first match wins and spends one of its `count`. */
export class FaultRegistry {
  readonly #faults: HttpFault[] = [];
  #next = 1;

  add(input: FaultInput & { path: string }): HttpFault {
    const fault: HttpFault = {
      id: `fault-${this.#next++}`,
      pattern: compilePathPattern(input.path),
      source: input,
      remaining: input.count ?? Number.POSITIVE_INFINITY,
    };
    this.#faults.push(fault);
    return fault;
  }

  /** Finds and consumes the first fault matching this request. */
  take(method: string, path: string, appId: string | undefined): HttpFault | undefined {
    const index = this.#faults.findIndex((f) => matches(f, method, path, appId));
    if (index < 0) return undefined;
    const fault = this.#faults[index] as HttpFault;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.#faults.splice(index, 1);
    return fault;
  }

  remove(id: string): boolean {
    const index = this.#faults.findIndex((f) => f.id === id);
    if (index >= 0) this.#faults.splice(index, 1);
    return index >= 0;
  }

  clear(): void {
    this.#faults.length = 0;
  }

  list(): Array<FaultInput & { id: string; remaining: number | null }> {
    return this.#faults.map((f) => ({
      ...f.source,
      id: f.id,
      remaining: Number.isFinite(f.remaining) ? f.remaining : null,
    }));
  }
}

function matches(fault: HttpFault, method: string, path: string, appId: string | undefined): boolean {
  const { method: m, app_id } = fault.source;
  if (m && m.toUpperCase() !== method) return false;
  if (app_id && app_id !== appId) return false;
  return fault.pattern.test(path);
}
