import { describe, expect, it } from "vitest";
import { cronProblem, parseCron } from "../../src/config/cron.js";

const at = (iso: string) => new Date(iso);

describe("cron schedules (UTC)", () => {
  it("finds the next and the previous matching minute", () => {
    const daily = parseCron("30 3 * * *");
    expect(daily.next(at("2026-03-01T03:30:00Z"))).toEqual(at("2026-03-02T03:30:00Z"));
    expect(daily.next(at("2026-03-01T03:29:59Z"))).toEqual(at("2026-03-01T03:30:00Z"));
    expect(daily.previous(at("2026-03-01T03:30:00Z"))).toEqual(at("2026-03-01T03:30:00Z"));
    expect(daily.previous(at("2026-03-01T03:29:00Z"))).toEqual(at("2026-02-28T03:30:00Z"));
  });

  it("takes lists, ranges, steps and names, crossing months and years", () => {
    const s = parseCron("*/20 9-17/4 * jan,DEC mon-fri");
    expect(s.next(at("2026-12-31T17:40:00Z"))).toEqual(at("2027-01-01T09:00:00Z"));
    expect(s.previous(at("2026-06-15T12:00:00Z"))).toEqual(at("2026-01-30T17:40:00Z")); // a Friday
    expect(parseCron("0 0 29 2 *").next(at("2026-01-01T00:00:00Z"))).toEqual(at("2028-02-29T00:00:00Z"));
  });

  it("matches either day field when both are restricted, and 7 is Sunday", () => {
    const s = parseCron("0 12 1 * 7");
    expect(s.next(at("2026-03-01T12:00:00Z"))).toEqual(at("2026-03-08T12:00:00Z")); // a Sunday
    expect(s.next(at("2026-03-29T12:00:00Z"))).toEqual(at("2026-04-01T12:00:00Z")); // the 1st
  });

  it("accepts the macros", () => {
    expect(parseCron("@daily").next(at("2026-05-05T10:00:00Z"))).toEqual(at("2026-05-06T00:00:00Z"));
  });

  it("names what is wrong, and refuses schedules that never match", () => {
    expect(cronProblem("0 3 * *")).toMatch(/five fields/);
    expect(cronProblem("60 * * * *")).toMatch(/minute: "60"/);
    expect(cronProblem("5-1 * * * *")).toMatch(/backwards/);
    expect(cronProblem("*/0 * * * *")).toMatch(/step/);
    // Read as "1-2" before: a typo must not run on a schedule nobody wrote.
    expect(cronProblem("1-2-3 * * * *")).toMatch(/minute: range "1-2-3" has two ends/);
    expect(cronProblem("0 0 31 2 *")).toMatch(/never matches/);
    expect(cronProblem("0 3 * * *")).toBeUndefined();
  });
});
