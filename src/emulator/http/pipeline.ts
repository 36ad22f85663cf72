import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { EmulatorCore } from "../core.js";
import type { HttpFault } from "../faults.js";
import { parseBody, parseCookies, readRawBody } from "./body.js";
import { faultReply } from "./fault-reply.js";
import { identifyApp } from "./identify.js";
import { json, notFound, rateLimited } from "./reply.js";
import type { Router } from "./router.js";
import { send } from "./send.js";
import type { EmuRequest, Reply, Route } from "./types.js";

/** What became of a request before its handler ran: answered already, or go ahead (maybe with a fault). */
type Gate = { done: true } | { done: false; fault?: HttpFault };

/**
 * The per-request pipeline. Open Platform routes are counted, then faults apply (latency, time-out,
 * injected answer), then the per-app rate limit, then the handler; a `reset_after_commit` fault lets the
 * handler commit its work and then resets the connection instead of answering.
 */
export function createPipeline(core: EmulatorCore, router: Router, closing: AbortSignal) {
  async function gate(route: Route, req: EmuRequest, res: ServerResponse): Promise<Gate> {
    const appId = identifyApp(core, req);
    core.calls.record(req.method, route.pattern, appId);
    const fault = core.faults.take(req.method, req.path, appId);
    const { latency_ms, timeout, reset_after_commit, status, code } = fault?.source ?? {};
    if (latency_ms) await sleep(latency_ms, undefined, { signal: closing }).catch(() => undefined);
    if (timeout) {
      // Hold the request open without answering; the client's own timeout ends it.
      await new Promise((resolve) => res.once("close", resolve));
      return { done: true };
    }
    if (fault && !reset_after_commit && (status !== undefined || code !== undefined)) {
      send(res, faultReply(fault.source, req.path));
      return { done: true };
    }
    if (route.rateLimited && appId) {
      const { rateLimitPerSecond, rateLimitPerMinute } = core.config;
      const windows = [
        { limit: rateLimitPerSecond, windowMs: 1000 },
        { limit: rateLimitPerMinute, windowMs: 60_000 },
      ];
      const hit = core.limiter.hit(`${req.method} ${route.pattern}\n${appId}`, windows, core.now());
      if (hit) {
        send(res, rateLimited(hit.limit, hit.resetSeconds));
        return { done: true };
      }
    }
    return { done: false, fault };
  }

  async function run(
    route: Route,
    req: EmuRequest,
    res: ServerResponse,
    raw: IncomingMessage,
  ): Promise<void> {
    const verdict = route.openPlatform ? await gate(route, req, res) : { done: false as const };
    if (verdict.done || res.destroyed) return;
    const reply = await route.handler(req);
    if (verdict.fault?.source.reset_after_commit) {
      // The work is done (e.g. a refresh token rotated) but the answer is lost on the way back.
      raw.socket.destroy();
      return;
    }
    send(res, reply);
  }

  return async function handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(raw.url ?? "/", "http://emulator");
      const method = (raw.method ?? "GET").toUpperCase();
      const rawBody = await readRawBody(raw);
      const matched = router.match(method, url.pathname);
      if (!matched) return send(res, notFound());
      const { body, error } = parseBody(rawBody, raw.headers["content-type"]);
      const req: EmuRequest = {
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: raw.headers,
        body,
        bodyError: error,
        rawBody,
        params: matched.params,
        cookies: parseCookies(raw.headers.cookie),
      };
      await run(matched.route, req, res, raw);
    } catch (err) {
      send(res, internalError(err));
    }
  };
}

function internalError(err: unknown): Reply {
  const message = err instanceof Error ? err.message : String(err);
  return json(500, { code: 1, msg: `emulator internal error: ${message}` });
}
