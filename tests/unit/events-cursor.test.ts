import { describe, expect, it } from "vitest";
import { cursorFromString } from "../../src/events/codec.js";

describe("an event cursor", () => {
  it("is any decimal id a bigint holds, leading zeros or not", () => {
    expect(cursorFromString("0")).toBe(0n);
    expect(cursorFromString("0000000000000000001")).toBe(1n);
    expect(cursorFromString("00000000000000000001")).toBe(1n);
    expect(cursorFromString("9223372036854775807")).toBe(9223372036854775807n);
  });

  it("is nothing else", () => {
    for (const bad of ["", " 1", "1 ", "+1", "-1", "abc", "9223372036854775808", "9".repeat(33)])
      expect(cursorFromString(bad), bad).toBeUndefined();
  });
});
