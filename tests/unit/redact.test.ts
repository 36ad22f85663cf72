import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/telemetry/logger.js";
import { REDACTED, redact, scrubString } from "../../src/telemetry/redact.js";

const SECRETS = {
  jwt: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJvdV94eHgifQ.c2lnbmF0dXJlLWJ5dGVz",
  uat: "u-7f1bcd13fc57d46bac21793a18e560",
  refresh: "ur-9f1bcd13fc57d46bac21793a18e560aa",
  tenant: "t-g1044ghJRUIJJ5ELPXNBQ2W3QRXSDVA",
  caller: "lak_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA",
  code: "Q8w2s9dZ0qLxvYz3kP4n",
};

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(c, _e, cb) {
      lines.push(String(c));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: "debug", destination }) };
}

describe("redaction", () => {
  it("redacts values under secret-named keys at any depth", () => {
    const out = redact({
      a: {
        access_token: "x",
        refresh_token: "y",
        app_secret: "z",
        code: "c",
        nested: [{ authorization: "Bearer q" }],
      },
      ok: "fine",
    });
    expect(out).toEqual({
      a: {
        access_token: REDACTED,
        refresh_token: REDACTED,
        app_secret: REDACTED,
        code: REDACTED,
        nested: [{ authorization: REDACTED }],
      },
      ok: "fine",
    });
  });

  it("scrubs token shapes, bearer headers, caller keys and secret query parameters inside strings", () => {
    const text =
      `got ${SECRETS.jwt} and ${SECRETS.uat} ${SECRETS.refresh} ${SECRETS.tenant} key ${SECRETS.caller} ` +
      `Authorization: Bearer abc.def https://x/cb?code=${SECRETS.code}&state=s1 {"app_secret":"shh"}`;
    const out = scrubString(text);
    for (const s of [...Object.values(SECRETS), "abc.def", "shh", "s1"]) expect(out).not.toContain(s);
    expect(out).toContain("https://x/cb?code=[REDACTED]");
    expect(scrubString("connect postgres://svc:hunter2@db:5432/x failed")).toBe(
      "connect postgres://svc:[REDACTED]@db:5432/x failed",
    );
  });

  it("applies to every log call: message, fields and errors (without HTTP client baggage)", () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error(`refresh failed for ${SECRETS.refresh}`), {
      config: { headers: { Authorization: `Bearer ${SECRETS.tenant}` }, data: `{"client_secret":"cs"}` },
    });
    logger.error(
      { err, url: `https://h/p?access_token=${SECRETS.uat}`, token: SECRETS.jwt },
      `callback /oauth/callback?code=${SECRETS.code} by ${SECRETS.caller}`,
    );
    logger.info(`plain ${SECRETS.jwt}`);
    const text = lines.join("");
    for (const s of Object.values(SECRETS)) expect(text).not.toContain(s);
    expect(text).not.toContain("cs");
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: "error",
      service: "lark-auth-service",
      err: { type: "Error" },
    });
  });

  it("treats OAuth state as a secret: by key, as a name=value parameter, and as a JSON field", () => {
    const state = "st_9f8e7d6c5b4a39281706";
    expect(redact({ state, oauth_state: state, oauthState: state, session_state: "PENDING" })).toEqual({
      state: REDACTED,
      oauth_state: REDACTED,
      oauthState: REDACTED,
      session_state: "PENDING",
    });
    for (const text of [
      `https://svc/oauth/callback?state=${state}&code=abc`,
      `callback with state=${state} from 10.0.0.1`,
      `state=${state}`,
      `https://svc/cb#oauth_state=${state}`,
      `{"state":"${state}"}`,
    ]) {
      const out = scrubString(text);
      expect(out, text).not.toContain(state);
      expect(out).toContain(REDACTED);
    }
    expect(scrubString("session state=PENDING")).not.toContain("PENDING"); // conservative by design
    expect(scrubString("restated=ok")).toBe("restated=ok");
  });

  it("redacts the bindings of child loggers, not only each call's fields", () => {
    const { lines, logger } = capture();
    const child = logger.child({ token: SECRETS.uat, url: `https://h/cb?state=st_secret_value_1234` });
    child.child({ caller_key: SECRETS.caller, state: "st_other_secret_5678" }).info("hello");
    const text = lines.join("");
    for (const s of [SECRETS.uat, SECRETS.caller, "st_secret_value_1234", "st_other_secret_5678"])
      expect(text).not.toContain(s);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ token: REDACTED, state: REDACTED, msg: "hello" });
  });

  it("bounds what any field, message, binding or list adds to a line", () => {
    const { lines, logger } = capture();
    const huge = "x".repeat(1_000_000);
    logger
      .child({ session_id: huge })
      .info({ app_id: huge, list: Array.from({ length: 10_000 }, () => "s"), err: new Error(huge) }, huge);
    expect(lines).toHaveLength(1);
    expect((lines[0] as string).length).toBeLessThan(20_000);
    const record = JSON.parse(lines[0] as string) as { app_id: string; list: string[] };
    expect(record.app_id).toMatch(/^x+…\[\d+ more characters\]$/);
    expect(record.list).toHaveLength(101);
    // A secret straddling the cut is still scrubbed whole, never left half-visible.
    const cut = `${"y".repeat(2040)} ${SECRETS.caller}`;
    logger.info({ note: cut });
    expect(lines[1]).not.toContain(SECRETS.caller.slice(0, 8));
  });
});
