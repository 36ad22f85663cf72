import { defineEntity, type InferEntity, p } from "@mikro-orm/core";

/**
 * One row per event or card callback Lark delivered (long connection or webhook), keyed by the app and
 * Lark's event id, so a redelivery to any replica is recognised. A row is claimed (`lease_until` set)
 * while a handler runs, and done (`done_time`, with the answer Lark got) once it succeeded; a failed
 * handler deletes its claim, so the platform's redelivery runs it again. Pruned after the dedup window.
 */
export const LarkInboundEventSchema = defineEntity({
  name: "LarkInboundEvent",
  tableName: "lark_inbound_event",
  properties: {
    appId: p.text().primary(),
    eventId: p.text().primary(),
    eventType: p.text(),
    receivedTime: p.datetime(),
    /** While a handler holds the event; another replica may take it over once this passes. */
    leaseUntil: p.datetime().nullable(),
    doneTime: p.datetime().nullable(),
    /** The JSON answer (a toast, a card) repeated to a redelivery; never a token. */
    answer: p.text().nullable(),
  },
  indexes: [{ name: "lark_inbound_event_received_time_idx", properties: ["receivedTime"] }],
});

export type ILarkInboundEvent = InferEntity<typeof LarkInboundEventSchema>;
