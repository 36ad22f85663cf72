import { describe, expect, it } from "vitest";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { identityToPb, sessionToPb } from "../../src/wire/codec.js";

const identity = {
  openId: "ou_1",
  userId: "u1",
  unionId: "on_1",
  tenantKey: "t1",
  name: "Alice",
  enName: "Alice Z",
  email: "alice@example.com",
  mobile: "+861",
  avatarUrl: "https://example.com/a.png",
};

const session: AuthSession = {
  id: "8f5c2f64-1a54-4d6b-9f7e-2f3a0b1c2d3e",
  appId: "cli_0123456789abcdef",
  user: { kind: "open_id", value: "ou_1" },
  state: "AUTHORIZED",
  flow: "REDIRECT",
  requestedScopes: ["docx:document:readonly"],
  identity,
  createTime: new Date("2026-01-01T00:00:00Z"),
  expireTime: new Date("2026-01-01T00:10:00Z"),
};

describe("codec: one user identity type on the wire", () => {
  it("carries every identity field, the same way for sessions and on its own", () => {
    const wire = identityToPb(identity);
    expect({ ...wire, $typeName: undefined }).toEqual({ ...identity, $typeName: undefined });
    expect(sessionToPb(session).identity).toEqual(wire);
  });

  it("leaves the identity unset while nothing is known of the user", () => {
    expect(sessionToPb({ ...session, state: "PENDING", identity: undefined }).identity).toBeUndefined();
  });
});
