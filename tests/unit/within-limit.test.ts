import { describe, expect, it } from "vitest";
import { withinLimit } from "../../src/shutdown.js";

describe("withinLimit: close steps cannot hang shutdown", () => {
  it("gives up on a step that never settles once its limit passes", async () => {
    const started = Date.now();
    expect(await withinLimit(new Promise(() => {}), 100)).toBe("timed out");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("reports a step that finishes in time", async () => {
    expect(await withinLimit(Promise.resolve(), 1_000)).toBe("done");
  });
});
