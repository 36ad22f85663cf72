// The port behind exactly-once handling of what Lark delivers (events, card callbacks): implemented in
// src/store/, used by src/lark/inbound.ts. Lark redelivers an event it got no timely answer for, to any
// replica and over either transport; the inbox is what all replicas agree on.

/** What claiming an event found. */
export type InboxClaim =
  /** Nobody handled it yet (or the one who was gave up its lease): this caller handles it now. */
  | {
      readonly kind: "claimed";
      /** Until when the claim holds; it also names this claim, so a lapsed claimer cannot release a takeover. */
      readonly lease: Date;
    }
  /** Handled already: Lark gets the same answer again, nothing runs twice. */
  | { readonly kind: "done"; readonly answer?: string }
  /** Another handler holds it right now: not acknowledged, so Lark asks again later. */
  | { readonly kind: "busy" };

export interface InboundEventKey {
  readonly appId: string;
  readonly eventId: string;
}

export interface EventInbox {
  /** Claims the event for `leaseMs` from `now`, unless it is done or another handler's lease still holds. */
  claim(key: InboundEventKey, eventType: string, now: Date, leaseMs: number): Promise<InboxClaim>;
  /** The handler succeeded: the event is done, `answer` (JSON) is what redeliveries get. */
  complete(key: InboundEventKey, answer: string | undefined, now: Date): Promise<void>;
  /**
   * The handler failed: the claim goes, so a redelivery runs it again; unless the claim lapsed and
   * another handler took the event over (`lease` is no longer the row's), whose claim it then keeps.
   */
  release(key: InboundEventKey, lease: Date): Promise<void>;
  /** Forgets up to `limit` events received before `before`; returns how many. */
  prune(before: Date, limit: number): Promise<number>;
}
