// The inbox as two replicas see it: each on its own pool to one database, racing claims for the same
// events (on PGlite, whose in-memory database is private to its process, both share one pool). Exactly one claim wins per event; a released claim is claimable again; a done event answers
// every later claim with its stored answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventInbox, InboxClaim } from "../../src/domain/inbox.js";
import { type Database, openDatabase } from "../../src/store/database.js";
import { createEventInbox } from "../../src/store/event-inbox.js";
import { createTestDatabase, type TestDatabase, testServerUrl } from "../support/db.js";

const APP = "cli_0123456789abcdef";
const LEASE_MS = 60_000;

let base: TestDatabase;
let other: Database | undefined;
let replicas: EventInbox[];
beforeAll(async () => {
  base = await createTestDatabase();
  other = testServerUrl() ? await openDatabase({ url: base.url, migrate: false, poolSize: 4 }) : undefined;
  replicas = [createEventInbox(base.db), createEventInbox(other ?? base.db)];
});
afterAll(async () => {
  await other?.close();
  await base?.close();
});

const kinds = (claims: InboxClaim[]) => claims.map((c) => c.kind).sort();

describe("event inbox across replicas", () => {
  it("gives each event to exactly one of many concurrent claims", async () => {
    const now = new Date();
    const events = Array.from({ length: 20 }, (_, i) => ({ appId: APP, eventId: `race-${i}` }));
    const results = await Promise.all(
      events.map((key) =>
        Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            (replicas[i % 2] as EventInbox).claim(key, "card.action.trigger", now, LEASE_MS),
          ),
        ),
      ),
    );
    for (const claims of results)
      expect(kinds(claims)).toEqual(["busy", "busy", "busy", "busy", "busy", "claimed"]);
  });

  it("lets a released claim be claimed again, and answers a done event with its answer", async () => {
    const [a, b] = replicas as [EventInbox, EventInbox];
    const key = { appId: APP, eventId: "released" };
    const now = new Date();
    const claim = await a.claim(key, "card.action.trigger", now, LEASE_MS);
    if (claim.kind === "claimed") await a.release(key, claim.lease);
    expect((await b.claim(key, "card.action.trigger", now, LEASE_MS)).kind).toBe("claimed");
    await b.complete(key, '{"toast":1}', now);
    const later = await Promise.all([a, b].map((r) => r.claim(key, "card.action.trigger", now, LEASE_MS)));
    expect(later).toEqual([
      { kind: "done", answer: '{"toast":1}' },
      { kind: "done", answer: '{"toast":1}' },
    ]);
  });

  it("keeps a takeover's claim when the handler whose lease lapsed gives up late", async () => {
    const [a, b] = replicas as [EventInbox, EventInbox];
    const key = { appId: APP, eventId: "taken-over" };
    const t0 = new Date();
    const first = await a.claim(key, "card.action.trigger", t0, 1_000);
    const later = new Date(t0.getTime() + 5_000);
    const second = await b.claim(key, "card.action.trigger", later, LEASE_MS);
    expect([first.kind, second.kind]).toEqual(["claimed", "claimed"]);
    // The slow first handler fails and releases: that must not free the event under the second one.
    if (first.kind === "claimed") await a.release(key, first.lease);
    expect((await a.claim(key, "card.action.trigger", later, LEASE_MS)).kind).toBe("busy");
    if (second.kind === "claimed") await b.release(key, second.lease);
    expect((await a.claim(key, "card.action.trigger", later, LEASE_MS)).kind).toBe("claimed");
  });
});
