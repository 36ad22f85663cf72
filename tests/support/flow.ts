// The authorization flow's real parts for tests: a migrated database, the MikroORM unit of work with a
// real AES-256-GCM sealer, node:crypto FlowCrypto, a settable clock, and recorders for cards and logs.
import { createFlowCrypto } from "../../src/crypto/flow-crypto.js";
import type { Caller } from "../../src/domain/callers.js";
import type { AuthUnitOfWork, CardQueue, Clock, FlowLogger } from "../../src/domain/ports.js";
import { createAuthUnitOfWork } from "../../src/store/auth-tx.js";
import type { Database } from "../../src/store/database.js";
import type { Sealer } from "../../src/store/sealer.js";
import { testSealer } from "./test-sealer.js";

/** A clock that stands still until a test moves it. */
export class TestClock implements Clock {
  constructor(private current = new Date(Math.floor(Date.now() / 1000) * 1000)) {}
  now(): Date {
    return new Date(this.current.getTime());
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Every card wake-up, in order. */
export class RecordingCards implements CardQueue {
  readonly notified: { appId: string; sessionId: string }[] = [];
  notify(appId: string, sessionId: string): void {
    this.notified.push({ appId, sessionId });
  }
}

export class RecordingLog implements FlowLogger {
  readonly lines: { fields: Record<string, string>; message: string }[] = [];
  error(fields: Readonly<Record<string, string>>, message: string): void {
    this.lines.push({ fields: { ...fields }, message });
  }
}

/** A caller holding every permission on every app. */
export const ALL_POWERFUL: Caller = { name: "test", can: () => true };

export interface FlowParts {
  readonly uow: AuthUnitOfWork;
  readonly sealer: Sealer;
  readonly clock: TestClock;
  readonly cards: RecordingCards;
  readonly log: RecordingLog;
  readonly crypto: ReturnType<typeof createFlowCrypto>;
}

export function flowParts(db: Database): FlowParts {
  const sealer = testSealer();
  const clock = new TestClock();
  return {
    uow: createAuthUnitOfWork(db, { sealer, clock }),
    sealer,
    clock,
    cards: new RecordingCards(),
    log: new RecordingLog(),
    crypto: createFlowCrypto(),
  };
}
