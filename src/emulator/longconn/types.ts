import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

/** The four knobs the SDK reads from the bootstrap answer and from every pong (all in seconds). */
export type ClientConfig = {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
};

export type DeliveryResult = { acked: boolean; response?: unknown; attempts: number };

export type HubOptions = {
  authenticate(appId: string, appSecret: string): boolean;
  /** How long to wait for the client's ACK before pushing again (the platform uses 3 s). */
  ackTimeoutMs?: number;
  maxConnectionsPerApp?: number;
  publicWsUrl(): string;
  /** Payloads larger than this many bytes are split across several data frames. */
  fragmentThreshold?: number;
  /** Pushes per event before giving up (first push included). */
  maxAttempts?: number;
  /** Overrides of the ClientConfig returned by the bootstrap and in every pong. */
  clientConfig?: Partial<ClientConfig>;
  /** How long a bootstrap ticket stays usable for the WebSocket upgrade. */
  ticketTtlMs?: number;
  /** A connection that sends nothing (no ping, no ACK) for this long is closed. Default: twice the
   * PingInterval last told to that client (in its bootstrap answer or latest pong), plus 1 s. */
  idleTimeoutMs?: number;
};

export type LongConnectionFaults = {
  /** Terminates the TCP connections of one app (or all apps) without a close handshake. */
  dropConnections(appId?: string): void;
  /** While on, WebSocket upgrades are rejected with HTTP 403 (the bootstrap still answers). */
  refuseConnections(on: boolean): void;
  /** While on, every connection (existing and new) stops reading and answering, TCP stays open. */
  halfOpen(on: boolean): void;
};

export interface LongConnectionHub {
  handleEndpoint(body: unknown): { status: number; json: unknown };
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  deliver(appId: string, payload: object): Promise<DeliveryResult>;
  connectionCount(appId: string): number;
  /** Changes the ClientConfig sent from now on (next bootstrap and next pong). */
  setClientConfig(config: Partial<ClientConfig>): void;
  faults: LongConnectionFaults;
  close(): Promise<void>;
}
