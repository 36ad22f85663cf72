import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Caller, Permission } from "../../src/domain/callers.js";
import type { SessionStore } from "../../src/domain/ports.js";
import { loadSessionFor } from "../../src/domain/sessions/load-session.js";
import type { AuthSession } from "../../src/domain/sessions/session.js";
import { buildSession } from "../support/factories.js";

const APP = "cli_0123456789abcdef";

function holding(...held: Permission[]): Caller {
  return { name: "c", can: (p, app) => app === APP && held.includes(p) };
}

/** The one-session port the rule under test reads; no storage behaviour is involved. */
function oneSession(session: AuthSession): { sessions: SessionStore } {
  return {
    sessions: {
      get: async (id) => (id === session.id ? session : undefined),
      list: async () => ({ sessions: [] }),
      insert: async () => {},
    },
  };
}

describe("loading a session by id for a use case", () => {
  const session = buildSession({ appId: APP });
  const deps = oneSession(session);

  it("tells a caller with no say on the session's app exactly what it tells for an unknown id", async () => {
    const unknown = randomUUID();
    const hidden = await loadSessionFor(deps, holding("token:read"), "auth:start", session.id).catch(
      (e) => e,
    );
    const missing = await loadSessionFor(deps, holding("token:read"), "auth:start", unknown).catch((e) => e);
    expect(hidden.code).toBe("SESSION_NOT_FOUND");
    expect(hidden.message.replace(session.id, "?")).toBe(missing.message.replace(unknown, "?"));
    expect(Object.keys(hidden.details.metadata)).toEqual(Object.keys(missing.details.metadata));
  });

  it("returns it to a caller holding the permission, and denies one that may only see it", async () => {
    await expect(loadSessionFor(deps, holding("auth:read"), "auth:read", session.id)).resolves.toBe(session);
    await expect(loadSessionFor(deps, holding("auth:start"), "auth:start", session.id)).resolves.toBe(
      session,
    );
    await expect(loadSessionFor(deps, holding("auth:read"), "auth:start", session.id)).rejects.toMatchObject({
      code: "PERMISSION_DENIED",
    });
  });
});
