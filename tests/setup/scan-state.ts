import type { Registry } from "prom-client";
import type { Egress } from "./egress-guard.js";
import { LeakLedger } from "./leak-ledger.js";

/**
 * The scan's state for the test file running in this process (one file per worker process). The
 * taps read `ledger` on every use, so a self-test may put a fresh one in place for a while.
 */
export const scan = {
  ledger: new LeakLedger(),
  registries: new Set<Registry>(),
  egress: [] as Egress[],
};
