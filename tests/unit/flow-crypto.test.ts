import { describe, expect, it } from "vitest";
import { createFlowCrypto } from "../../src/crypto/flow-crypto.js";
import { covers, union, withOfflineAccess } from "../../src/domain/sessions/scopes.js";

describe("FlowCrypto", () => {
  const crypto = createFlowCrypto();

  it("makes 32-byte base64url tokens that do not repeat, and refuses guessable sizes", () => {
    const tokens = new Set(Array.from({ length: 100 }, () => crypto.randomToken(32)));
    expect(tokens.size).toBe(100);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => crypto.randomToken(8)).toThrow(RangeError);
  });

  it("computes the RFC 7636 S256 challenge (appendix B vector) and SHA-256 in hex", () => {
    expect(crypto.pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    expect(crypto.sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(crypto.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("scopes", () => {
  it("always asks for offline_access, once", () => {
    expect(withOfflineAccess(["a", "a"])).toEqual(["a", "offline_access"]);
    expect(withOfflineAccess(["offline_access", "b"])).toEqual(["offline_access", "b"]);
  });

  it("covers when every wanted scope is held; unions keep order", () => {
    expect(covers(["a", "b", "offline_access"], ["b", "offline_access"])).toBe(true);
    expect(covers(["a"], ["a", "b"])).toBe(false);
    expect(union(["a", "b"], ["b", "c"])).toEqual(["a", "b", "c"]);
  });
});
