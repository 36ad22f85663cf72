import { describe, expect, it } from "vitest";
import { DomainError, DomainErrorCode, isFault } from "../../src/domain/errors.js";

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
});
