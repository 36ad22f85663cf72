import type { IncomingHttpHeaders } from "node:http";

/** A parsed request, as every handler sees it. */
export interface EmuRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** JSON or form body as an object; `{}` when absent or unparsable (`bodyError` says why). */
  body: Record<string, unknown>;
  bodyError?: string;
  rawBody: string;
  /** `:name` segments of the matched route. */
  params: Record<string, string>;
  cookies: Record<string, string>;
}

/** What a handler answers; the pipeline writes it (or, for some faults, deliberately does not). */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as given (set content-type in headers). */
  body?: unknown;
}

export type Handler = (req: EmuRequest) => Reply | Promise<Reply>;

/** A route. `rateLimited` routes count against the per-app 50/s and 1000/min budget. */
export interface Route {
  method: string;
  pattern: string;
  handler: Handler;
  /** Open Platform routes are counted, faultable and rate-limited; `/_emulator` routes are not. */
  openPlatform?: boolean;
  rateLimited?: boolean;
}
