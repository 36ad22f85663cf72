import { randomUUID } from "node:crypto";
import type { RawData, WebSocket } from "ws";
import { decodeFrame, encodeFrame, type Frame, FrameMethod, headerValue } from "./frame.js";
import { Liveness } from "./liveness.js";
import type { ClientConfig } from "./types.js";

// One client socket. It answers pings with the ClientConfig, tells the hub when the client is ready
// for data (first ping), pushes event frames, forwards the client's ACKs and closes the socket when
// the client falls silent.

export type ConnectionHooks = {
  clientConfig(): ClientConfig;
  onReady(conn: LongConnection): void;
  onAck(conn: LongConnection, frame: Frame): void;
  onClose(conn: LongConnection): void;
  /** Silence (ms) after which the connection is closed; default twice the PingInterval told, + 1 s. */
  idleTimeoutMs?: number;
};

export class LongConnection {
  readonly id = randomUUID();
  /** The SDK attaches its message listener a few microtasks after `open`; frames sent before its
   * first ping are lost, so data is pushed only once that ping has arrived. */
  ready = false;
  private halfOpen = false;
  private seq = 0n;
  /** Server-chosen and opaque to the SDK, which only echoes it in the ACK. */
  private logId = BigInt(Date.now()) * 1000n;
  private readonly liveness: Liveness;

  constructor(
    private readonly ws: WebSocket,
    readonly appId: string,
    readonly serviceId: number,
    private readonly hooks: ConnectionHooks,
  ) {
    this.liveness = new Liveness({
      idleTimeoutMs: hooks.idleTimeoutMs,
      pingIntervalS: hooks.clientConfig().PingInterval,
      // No close handshake: a silent peer would not answer it, so the socket is simply dropped.
      onExpired: () => ws.terminate(),
    });
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("close", () => {
      this.liveness.stop();
      hooks.onClose(this);
    });
    // A reset peer surfaces as 'error' before 'close'; without a listener `ws` would throw.
    ws.on("error", () => {});
  }

  /** Half-open: stop reading (so pings, ACKs and even the peer's FIN go unnoticed) and drop what we
   * would send, but keep the TCP connection, like a silently dead NAT mapping. */
  setHalfOpen(on: boolean): void {
    this.halfOpen = on;
    this.liveness.pause(on);
    if (on) this.ws.pause();
    else this.ws.resume();
  }

  /** A connection past its idle allowance is never picked, even before its timer has closed it. */
  get usable(): boolean {
    return this.ready && !this.halfOpen && this.ws.readyState === this.ws.OPEN && !this.liveness.expired;
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** Sends one event as `ceil(size / fragmentThreshold)` data frames sharing the message_id; returns
   * their SeqIDs, which the client's ACK echoes. */
  sendEvent(messageId: string, payload: Uint8Array, fragmentThreshold: number): bigint[] {
    const size = Math.max(1, fragmentThreshold);
    const sum = Math.max(1, Math.ceil(payload.length / size));
    const traceId = randomUUID();
    const seqIds: bigint[] = [];
    for (let seq = 0; seq < sum; seq++) {
      const headers = [
        { key: "type", value: "event" },
        { key: "message_id", value: messageId },
        { key: "sum", value: String(sum) },
        { key: "seq", value: String(seq) },
        { key: "trace_id", value: traceId },
      ];
      const part = payload.subarray(seq * size, (seq + 1) * size);
      const ids = this.frameIds();
      seqIds.push(ids.seqId);
      this.send({ ...ids, method: FrameMethod.data, headers, payload: part });
    }
    return seqIds;
  }

  private frameIds(): Pick<Frame, "seqId" | "logId" | "service"> {
    this.seq += 1n;
    this.logId += 1n;
    return { seqId: this.seq, logId: this.logId, service: this.serviceId };
  }

  private send(frame: Frame): void {
    if (this.halfOpen || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(encodeFrame(frame));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    // Frames still buffered when the socket was paused are discarded, as a dead link would.
    if (this.halfOpen) return;
    this.liveness.seen();
    if (!isBinary) return;
    let frame: Frame;
    try {
      frame = decodeFrame(toBytes(data));
    } catch {
      return; // the platform ignores undecodable frames; so does the SDK
    }
    if (frame.method === FrameMethod.control) this.onControl(frame);
    else if (frame.method === FrameMethod.data) this.hooks.onAck(this, frame);
  }

  private onControl(frame: Frame): void {
    if (headerValue(frame, "type") !== "ping") return;
    const config = this.hooks.clientConfig();
    const payload = new TextEncoder().encode(JSON.stringify(config));
    this.send({
      seqId: frame.seqId,
      logId: frame.logId,
      service: this.serviceId,
      method: FrameMethod.control,
      headers: [{ key: "type", value: "pong" }],
      payload,
    });
    this.liveness.toldPingInterval(config.PingInterval);
    if (!this.ready) {
      this.ready = true;
      this.hooks.onReady(this);
    }
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
