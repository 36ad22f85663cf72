import { randomUUID } from "node:crypto";
import type { LongConnection } from "./connection.js";
import { type Frame, headerValue } from "./frame.js";
import type { DeliveryResult } from "./types.js";

// Cluster-mode delivery with redelivery: each push goes to one connection of the app; with no
// positive ACK within the timeout the same message_id is pushed again, preferring a connection
// that has not had it yet, until the attempts run out.

export type DeliveryDeps = {
  ackTimeoutMs: number;
  maxAttempts: number;
  fragmentThreshold: number;
  /** A usable connection of the app, preferring ones whose id is not in `tried`. */
  pick(appId: string, tried: ReadonlySet<string>): LongConnection | undefined;
  /** Resolves when a connection of the app becomes usable, or after `ms`, or on close. */
  waitForConnection(appId: string, ms: number): Promise<void>;
};

type Ack = { code: number; response?: unknown };
/** `attempt` is the push the ACK answers, found from the echoed SeqID; undefined when none matches. */
type TaggedAck = Ack & { attempt?: number };
/** `pushes` maps `connId:SeqID` of every frame pushed for the message to its attempt number. SeqIDs
 * are per connection, so the connection is part of the key. */
type Inbox = { acks: TaggedAck[]; pushes: Map<string, number>; wake?: () => void };

const pushKey = (connId: string, seqId: bigint) => `${connId}:${seqId}`;

/** ACK payload is `{"code":200,"data":"<base64 JSON>"}`; `data` is the handler's return value. */
export function parseAck(frame: Frame): Ack {
  try {
    const body = JSON.parse(new TextDecoder().decode(frame.payload ?? new Uint8Array())) as {
      code?: unknown;
      data?: unknown;
    };
    const code = typeof body.code === "number" ? body.code : 0;
    if (typeof body.data !== "string") return { code };
    const text = Buffer.from(body.data, "base64").toString("utf8");
    try {
      return { code, response: JSON.parse(text) };
    } catch {
      return { code, response: text };
    }
  } catch {
    return { code: 0 };
  }
}

export class Delivery {
  private readonly inboxes = new Map<string, Inbox>();
  private closed = false;

  constructor(private readonly deps: DeliveryDeps) {}

  async deliver(appId: string, payload: object): Promise<DeliveryResult> {
    const messageId = randomUUID();
    const bytes = new TextEncoder().encode(JSON.stringify(payload));
    // One inbox across attempts, so a late success of an earlier push still completes the delivery.
    const inbox: Inbox = { acks: [], pushes: new Map() };
    const tried = new Set<string>();
    this.inboxes.set(messageId, inbox);
    let attempts = 0;
    try {
      while (attempts < this.deps.maxAttempts && !this.closed) {
        attempts++;
        const ack = await this.attempt(appId, messageId, bytes, tried, inbox, attempts);
        if (!ack) continue;
        return ack.response === undefined
          ? { acked: true, attempts }
          : { acked: true, response: ack.response, attempts };
      }
      return { acked: false, attempts };
    } finally {
      this.inboxes.delete(messageId);
    }
  }

  /** The SDK's ACK is a copy of the pushed frame (the last fragment), so its SeqID names the push. */
  onAck(conn: LongConnection, frame: Frame): void {
    const inbox = this.inboxes.get(headerValue(frame, "message_id") ?? "");
    if (!inbox) return; // late ACK of a finished delivery: nothing waits for it any more
    const attempt = inbox.pushes.get(pushKey(conn.id, frame.seqId));
    inbox.acks.push({ ...parseAck(frame), attempt });
    inbox.wake?.();
  }

  close(): void {
    this.closed = true;
    for (const inbox of this.inboxes.values()) inbox.wake?.();
  }

  /** One push (attempt number `n`); the ACK when a positive one (code 200) arrives in time. */
  private async attempt(
    appId: string,
    id: string,
    bytes: Uint8Array,
    tried: Set<string>,
    inbox: Inbox,
    n: number,
  ) {
    const conn = await this.connectionFor(appId, tried);
    if (!conn) return undefined;
    tried.add(conn.id);
    for (const seqId of conn.sendEvent(id, bytes, this.deps.fragmentThreshold)) {
      inbox.pushes.set(pushKey(conn.id, seqId), n);
    }
    return this.outcome(inbox, n, Date.now() + this.deps.ackTimeoutMs);
  }

  /**
   * Reads this message's ACKs until the deadline. A failure (500: the handler threw) ends attempt `n`
   * early only when it answers push `n`: a late failure of an earlier push was already counted when
   * that attempt timed out, and the current push may still succeed. A success answering any push
   * (an earlier one, or one whose SeqID matches none) completes the delivery: the handler ran to the
   * end once, which is all the platform asks for, and pushing again would only duplicate the event.
   */
  private async outcome(inbox: Inbox, n: number, deadline: number): Promise<Ack | undefined> {
    for (;;) {
      const ack = await this.nextAck(inbox, deadline - Date.now());
      if (!ack) return undefined;
      if (ack.code === 200) return ack;
      if (ack.attempt === n) return undefined;
    }
  }

  /** With no usable connection (e.g. the client is reconnecting) an attempt waits up to the ACK
   * timeout for one to come up before it counts as failed. */
  private async connectionFor(appId: string, tried: Set<string>): Promise<LongConnection | undefined> {
    const deadline = Date.now() + this.deps.ackTimeoutMs;
    for (;;) {
      const conn = this.deps.pick(appId, tried);
      const left = deadline - Date.now();
      if (conn || this.closed || left <= 0) return conn;
      await this.deps.waitForConnection(appId, left);
    }
  }

  /** Waits for the next ACK of this message, up to `ms`. */
  private nextAck(inbox: Inbox, ms: number): Promise<TaggedAck | undefined> {
    const queued = inbox.acks.shift();
    if (queued || this.closed || ms <= 0) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), ms);
      const finish = (ack: TaggedAck | undefined) => {
        clearTimeout(timer);
        inbox.wake = undefined;
        resolve(ack);
      };
      inbox.wake = () => finish(inbox.acks.shift());
    });
  }
}
