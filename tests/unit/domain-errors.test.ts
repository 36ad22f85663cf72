import { describe, expect, it } from "vitest";
import { bounded, DomainError, DomainErrorCode, isFault } from "../../src/domain/errors.js";

describe("faults versus normal answers", () => {
  it("treats unknown errors and unavailable dependencies as faults, caller-facing outcomes as normal", () => {
    expect(isFault(new Error("boom"))).toBe(true);
    expect(isFault(new DomainError(DomainErrorCode.STORE_UNAVAILABLE, "db down"))).toBe(true);
    expect(isFault(new DomainError(DomainErrorCode.LARK_UNAVAILABLE, "lark down"))).toBe(true);
    for (const code of [
      "SESSION_NOT_FOUND",
      "PERMISSION_DENIED",
      "INVALID_ARGUMENT",
      "SHUTTING_DOWN",
    ] as const) {
      expect(isFault(new DomainError(code, "x"))).toBe(false);
    }
  });

  it("bounds every message, metadata value and violation, however long the input echoed into it", () => {
    const huge = "a".repeat(40_000);
    const err = new DomainError(DomainErrorCode.PERMISSION_DENIED, `denied on ${huge}`, {
      field: huge,
      metadata: { app_id: huge },
      violations: Array.from({ length: 500 }, () => ({ field: huge, description: huge })),
    });
    expect(err.message.length).toBeLessThanOrEqual(1024);
    expect(err.message.endsWith("…")).toBe(true);
    expect(err.details.metadata?.app_id?.length).toBeLessThanOrEqual(128);
    expect(err.details.field?.length).toBeLessThanOrEqual(128);
    expect(err.details.violations?.length).toBeLessThanOrEqual(20);
    expect(err.details.violations?.[0]?.description.length).toBeLessThanOrEqual(256);
    expect(bounded("short")).toBe("short");
    expect(bounded("b".repeat(100))).toBe(`${"b".repeat(63)}…`);
  });
});
