import { describe, expect, it } from "vitest";
import { findByKey, generateCallerKey, hashCallerKey } from "../../src/crypto/caller-keys.js";

describe("caller keys", () => {
  it("stores only the SHA-256 and finds the entry whose hash matches", () => {
    const keys = [generateCallerKey(), generateCallerKey()];
    const entries = keys.map((k, i) => ({ name: `svc${i}`, keySha256: hashCallerKey(k) }));
    expect(entries[0]?.keySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(entries[0]?.keySha256).not.toContain(keys[0]);
    expect(findByKey(entries, keys[1] as string)?.name).toBe("svc1");
    expect(findByKey(entries, keys[0] as string)?.name).toBe("svc0");
  });

  it("rejects unknown keys, near misses and uppercase-hex tricks", () => {
    const key = generateCallerKey();
    const entries = [{ name: "svc", keySha256: hashCallerKey(key) }];
    expect(findByKey(entries, `${key}x`)).toBeUndefined();
    expect(findByKey(entries, key.slice(0, -1))).toBeUndefined();
    expect(findByKey(entries, "")).toBeUndefined();
    expect(findByKey([{ name: "svc", keySha256: "" }], "")).toBeUndefined();
    expect(generateCallerKey()).toMatch(/^lak_[A-Za-z0-9_-]{43}$/);
  });
});
