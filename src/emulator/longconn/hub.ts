import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { Bootstrap, BootstrapCode, type Ticket } from "./bootstrap.js";
import { type ConnectionHooks, LongConnection } from "./connection.js";
import { Delivery } from "./delivery.js";
import { ConnectionRegistry } from "./registry.js";
import type { ClientConfig, HubOptions, LongConnectionFaults, LongConnectionHub } from "./types.js";

export type { ClientConfig, DeliveryResult, HubOptions, LongConnectionHub } from "./types.js";

/** What the real platform hands out (seconds). Tests override these to reconnect quickly. */
const PLATFORM_CLIENT_CONFIG: ClientConfig = {
  PingInterval: 120,
  ReconnectCount: -1,
  ReconnectInterval: 120,
  ReconnectNonce: 30,
};

function rejectUpgrade(socket: Duplex, msg: string, authCode = 0): void {
  // The real gateway explains a refused handshake in these headers; Go/Python SDKs read them.
  const lines = [
    "HTTP/1.1 403 Forbidden",
    "Handshake-Status: 403",
    `Handshake-Msg: ${msg}`,
    ...(authCode ? [`Handshake-Autherrcode: ${authCode}`] : []),
    "Connection: close",
    "Content-Length: 0",
  ];
  // Node's HTTP server drops its own 'error' listener before 'upgrade': a peer reset while this answer
  // is written would otherwise be an unhandled 'error' and take the whole process down.
  socket.on("error", () => socket.destroy());
  socket.once("finish", () => socket.destroy());
  socket.end(`${lines.join("\r\n")}\r\n\r\n`);
}

class Hub implements LongConnectionHub {
  private clientConfig: ClientConfig;
  private readonly registry = new ConnectionRegistry();
  private readonly wss = new WebSocketServer({ noServer: true, clientTracking: false });
  private readonly bootstrap: Bootstrap;
  private readonly delivery: Delivery;
  private readonly maxConnections: number;
  private readonly hooks: ConnectionHooks;
  private refusing = false;
  private halfOpenMode = false;

  constructor(opts: HubOptions) {
    this.clientConfig = { ...PLATFORM_CLIENT_CONFIG, ...opts.clientConfig };
    this.maxConnections = opts.maxConnectionsPerApp ?? 50;
    this.bootstrap = new Bootstrap({
      authenticate: opts.authenticate,
      publicWsUrl: opts.publicWsUrl,
      clientConfig: () => this.clientConfig,
      maxConnectionsPerApp: this.maxConnections,
      openConnections: (appId) => this.registry.count(appId),
      ticketTtlMs: opts.ticketTtlMs ?? 30_000,
    });
    this.delivery = new Delivery({
      ackTimeoutMs: opts.ackTimeoutMs ?? 3000,
      maxAttempts: opts.maxAttempts ?? 5,
      fragmentThreshold: opts.fragmentThreshold ?? 64 * 1024,
      pick: (appId, tried) => this.registry.pick(appId, tried),
      waitForConnection: (appId, ms) => this.registry.waitForUsable(appId, ms),
    });
    this.hooks = {
      clientConfig: () => this.clientConfig,
      onReady: (conn) => this.registry.wake(conn.appId),
      onAck: (conn, frame) => this.delivery.onAck(conn, frame),
      onClose: (conn) => this.registry.remove(conn),
      idleTimeoutMs: opts.idleTimeoutMs,
    };
  }

  handleEndpoint = (body: unknown) => this.bootstrap.handleEndpoint(body);

  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const query = new URL(req.url ?? "/", "http://emulator").searchParams;
    const ticket = this.bootstrap.takeTicket(query);
    if (this.refusing || !ticket) {
      rejectUpgrade(socket, this.refusing ? "connection refused" : "invalid ticket");
    } else if (this.registry.count(ticket.appId) >= this.maxConnections) {
      rejectUpgrade(socket, "exceed connection limit", BootstrapCode.exceedConnLimit);
    } else {
      this.accept(req, socket, head, ticket);
    }
  };

  private accept(req: IncomingMessage, socket: Duplex, head: Buffer, ticket: Ticket): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new LongConnection(ws, ticket.appId, ticket.serviceId, this.hooks);
      if (this.halfOpenMode) conn.setHalfOpen(true);
      this.registry.add(conn);
    });
  }

  deliver = (appId: string, payload: object) => this.delivery.deliver(appId, payload);

  connectionCount = (appId: string) => this.registry.count(appId);

  setClientConfig = (config: Partial<ClientConfig>) => {
    this.clientConfig = { ...this.clientConfig, ...config };
  };

  readonly faults: LongConnectionFaults = {
    dropConnections: (appId) => {
      for (const conn of this.registry.list(appId)) conn.terminate();
    },
    refuseConnections: (on) => {
      this.refusing = on;
    },
    halfOpen: (on) => {
      this.halfOpenMode = on;
      for (const conn of this.registry.list()) conn.setHalfOpen(on);
      // Resumed sockets may hold a buffered ping; waiting deliveries re-check for a usable one.
      if (!on) this.registry.wake();
    },
  };

  close = async (): Promise<void> => {
    this.delivery.close();
    this.bootstrap.clear();
    for (const conn of this.registry.list()) conn.terminate();
    this.registry.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  };
}

export function createLongConnectionHub(opts: HubOptions): LongConnectionHub {
  return new Hub(opts);
}
