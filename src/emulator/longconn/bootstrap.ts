import { randomBytes, randomInt } from "node:crypto";
import type { ClientConfig } from "./types.js";

// `POST /callback/ws/endpoint`: checks the app's credentials and hands out a one-time WebSocket URL.
// Auth happens only here, as on the platform; the socket is admitted by the ticket in its query.

export const BootstrapCode = {
  ok: 0,
  authFailed: 514,
  exceedConnLimit: 1000040350,
} as const;

export type Ticket = { appId: string; deviceId: string; serviceId: number; expiresAt: number };

export type BootstrapDeps = {
  authenticate(appId: string, appSecret: string): boolean;
  publicWsUrl(): string;
  clientConfig(): ClientConfig;
  maxConnectionsPerApp: number;
  openConnections(appId: string): number;
  ticketTtlMs: number;
};

type EndpointAnswer = { status: number; json: unknown };

/** The SDK treats a non-zero code as fatal only when `data` is an object, so always send one. */
function failure(code: number, msg: string): EndpointAnswer {
  return { status: 200, json: { code, msg, data: {} } };
}

function credentials(body: unknown): { appId: string; appSecret: string } | undefined {
  const parsed = typeof body === "string" || Buffer.isBuffer(body) ? safeJson(String(body)) : body;
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { AppID, AppSecret } = parsed as Record<string, unknown>;
  if (typeof AppID !== "string" || typeof AppSecret !== "string") return undefined;
  return { appId: AppID, appSecret: AppSecret };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class Bootstrap {
  private readonly tickets = new Map<string, Ticket>();

  constructor(private readonly deps: BootstrapDeps) {}

  handleEndpoint(body: unknown): EndpointAnswer {
    const creds = credentials(body);
    if (!creds || !this.deps.authenticate(creds.appId, creds.appSecret)) {
      return failure(BootstrapCode.authFailed, "auth failed");
    }
    if (this.overLimit(creds.appId)) return failure(BootstrapCode.exceedConnLimit, "exceed connection limit");
    const URL = this.issueUrl(creds.appId);
    return {
      status: 200,
      json: { code: 0, msg: "ok", data: { URL, ClientConfig: this.deps.clientConfig() } },
    };
  }

  /** Tickets are single use: consumed by the first upgrade that presents them, admitted or not. */
  takeTicket(query: URLSearchParams): Ticket | undefined {
    const id = query.get("ticket") ?? "";
    const ticket = this.tickets.get(id);
    if (!ticket) return undefined;
    this.tickets.delete(id);
    if (ticket.expiresAt <= Date.now() || query.get("device_id") !== ticket.deviceId) return undefined;
    return ticket;
  }

  clear(): void {
    this.tickets.clear();
  }

  private pendingTickets(appId: string): number {
    const now = Date.now();
    let n = 0;
    for (const [id, t] of this.tickets) {
      if (t.expiresAt <= now) this.tickets.delete(id);
      else if (t.appId === appId) n++;
    }
    return n;
  }

  /** Issued-but-unused tickets count toward the limit so a burst of bootstraps cannot overshoot it. */
  private overLimit(appId: string): boolean {
    return this.deps.openConnections(appId) + this.pendingTickets(appId) >= this.deps.maxConnectionsPerApp;
  }

  private issueUrl(appId: string): string {
    const ticket = randomBytes(16).toString("hex");
    const deviceId = String(randomInt(1, 2 ** 47));
    const serviceId = randomInt(1, 2 ** 31 - 1);
    this.tickets.set(ticket, { appId, deviceId, serviceId, expiresAt: Date.now() + this.deps.ticketTtlMs });
    // fpid must come first: the SDK runs querystring.parse over the whole URL, so the first key
    // swallows "ws://host/path?" and device_id/service_id would be lost in that position.
    const query = `fpid=1&device_id=${deviceId}&service_id=${serviceId}&ticket=${ticket}`;
    const base = this.deps.publicWsUrl();
    return `${base}${base.includes("?") ? "&" : "?"}${query}`;
  }
}
