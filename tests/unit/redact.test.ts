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
});
