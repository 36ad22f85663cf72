import { defineEntity, p } from "@mikro-orm/core";

/**
 * One row: the highest `auth_event` id ever deleted, advanced by the `auth_event_advance_horizon`
 * trigger on every delete. A resume cursor below it may have missed a pruned event (OUT_OF_RANGE);
 * one at or above it missed nothing. Exact where `min(id)` is not: it cannot tell a pruned id from
 * one that a rolled-back transaction took and never used.
 */
export const AuthEventHorizonSchema = defineEntity({
  name: "AuthEventHorizon",
  tableName: "auth_event_horizon",
  properties: {
    id: p.smallint().primary().autoincrement(false).default(1),
    prunedThrough: p.bigint("string").defaultRaw("0"),
  },
  checks: [{ name: "auth_event_horizon_single_row", expression: "id = 1" }],
});
