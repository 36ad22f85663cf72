import { describe, expect, it } from "vitest";
import {
  classifyRefreshFailure,
  reauthReason,
  retryDelayMs,
} from "../../src/domain/grants/refresh-outcome.js";
import { LarkError } from "../../src/domain/lark-error.js";

const err = (code: number, kind: "terminal" | "transient", httpStatus?: number, oauthError?: string) =>
  new LarkError({ code, kind, message: "x", httpStatus, oauthError });

describe("the refresh failure table", () => {
  it.each([
    [err(20064, "terminal", 400), "reauth"],
    [err(20073, "terminal", 400), "reauth"],
    [err(20026, "terminal", 400), "reauth"],
    [err(20037, "terminal", 400), "reauth"],
    [err(20050, "transient", 500), "transient"],
    [err(20072, "transient", 503), "transient"],
    [err(99991400, "transient", 429), "transient"],
    [err(0, "transient", 502), "transient"],
    [err(0, "transient"), "lost"], // reset, time-out: no answer, Lark may have rotated
    [err(20074, "terminal", 400), "rejected"],
    [err(20002, "terminal", 400), "rejected"],
    [err(29999, "terminal", 400, "invalid_grant"), "reauth"],
  ])("%o → %s", (e, expected) => {
    expect(classifyRefreshFailure(e)).toBe(expected);
  });

  it("names the reason recorded on the grant", () => {
    expect(reauthReason(err(20073, "terminal"))).toBe("REFRESH_TOKEN_ALREADY_USED");
    expect(reauthReason(err(20064, "terminal"))).toBe("REFRESH_TOKEN_REVOKED");
  });

  it("backs off exponentially, jittered, capped", () => {
    expect(retryDelayMs(1, () => 0)).toBe(500);
    expect(retryDelayMs(1, () => 1)).toBe(1000);
    expect(retryDelayMs(4, () => 1)).toBe(8000);
    expect(retryDelayMs(30, () => 1)).toBe(300_000);
  });
});
