import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { Writable } from "node:stream";
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { Counter, Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newJwtLikeToken, randomUrlSafe } from "../../src/emulator/ids.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { isLocal } from "../setup/egress-guard.js";
import { LeakLedger } from "../setup/leak-ledger.js";
import { scan } from "../setup/scan-state.js";

/** A canary no code would print by chance. */
const CANARY = "CANARYsecret0f9e8d7c6b5a4f3e2d1c";

const sink = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

describe("the leak ledger", () => {
  it("finds a recorded secret whole, cut short, inside a longer string and URL-encoded", () => {
    const ledger = new LeakLedger();
    ledger.secret(CANARY, "the canary");
    ledger.secret("k+y/with=chars0123456789", "a base64 key");
    ledger.output("log", `{"msg":"x","v":"${CANARY}"}`);
    ledger.output("span", `prefix-${CANARY.slice(0, 20)}`);
    ledger.output("metrics", `x{l="${encodeURIComponent("k+y/with=chars0123456789")}"} 1`);
    expect(ledger.leaks().map((l) => [l.secret, l.kind])).toEqual([
      ["the canary", "log"],
      ["the canary", "span"],
      ["a base64 key", "metrics"],
    ]);
    expect(ledger.leaks()[0]?.excerpt).not.toContain(CANARY);
  });

  it("finds a JWT's random part even though every token shares its header", () => {
    const ledger = new LeakLedger();
    const token = newJwtLikeToken({ sub: "ou_1" });
    ledger.secret(token, "a token");
    const other = newJwtLikeToken({ sub: "ou_1" });
    ledger.output("log", `header only: ${other.split(".")[0]}`);
    expect(ledger.leaks()).toEqual([]);
    ledger.output("log", `signature: ${token.split(".")[2]?.slice(0, 40)}`);
    expect(ledger.leaks().map((l) => l.secret)).toEqual(["a token"]);
  });

  it("fails on secret shapes nobody recorded, and not on redacted ones", () => {
    const ledger = new LeakLedger();
    ledger.output("log", `{"authorization":"Bearer [REDACTED]","k":"[REDACTED]"}`);
    expect(ledger.leaks()).toEqual([]);
    ledger.output("log", "Authorization: Bearer abcdefgh12345678");
    ledger.output("span", `lak_${"x".repeat(20)}`);
    ledger.output("metrics", `${newJwtLikeToken({})}`);
    expect(ledger.leaks().map((l) => l.secret)).toEqual([
      "a bearer credential",
      "a caller key (lak_…)",
      "a JWT-shaped token",
    ]);
  });

  it("matches a short secret (a device user code) whole", () => {
    const ledger = new LeakLedger();
    ledger.secret("BCDF-GHJK", "a user code");
    ledger.output("log", "enter BCDF-GHJ");
    expect(ledger.leaks()).toEqual([]);
    ledger.output("log", "enter BCDF-GHJK");
    expect(ledger.leaks()).toHaveLength(1);
  });
});

describe("the suite-wide taps (tests/setup/suite-scan.ts) see what this file produces", () => {
  let real: LeakLedger;
  beforeEach(() => {
    real = scan.ledger;
    scan.ledger = new LeakLedger();
  });
  afterEach(() => {
    scan.ledger = real;
  });

  it("records what the emulator issues and scans every logger's lines", () => {
    const code = randomUrlSafe(64);
    const logger = createLogger({ level: "info", destination: sink() });
    logger.info({ note: `not redacted by key: ${code}` }, "a careless line");
    expect(scan.ledger.leaks().map((l) => [l.secret, l.kind])).toEqual([
      ["an emulator code or verification token", "log"],
    ]);
  });

  it("scans every ended span, whichever provider made it", () => {
    scan.ledger.secret(CANARY, "the canary");
    const span = new BasicTracerProvider().getTracer("t").startSpan("s", { attributes: { v: CANARY } });
    span.end();
    trace.getTracer("noop").startSpan("unregistered: a no-op span").end();
    expect(scan.ledger.leaks().map((l) => [l.secret, l.kind])).toEqual([["the canary", "span"]]);
  });

  it("scans every metrics exposition", async () => {
    scan.ledger.secret(CANARY, "the canary");
    const registry = new Registry();
    new Counter({ name: "probe_total", help: "h", labelNames: ["v"], registers: [registry] }).inc({
      v: CANARY,
    });
    await registry.metrics();
    expect(scan.ledger.leaks().map((l) => [l.secret, l.kind])).toEqual([["the canary", "metrics"]]);
    expect(scan.registries.has(registry)).toBe(true);
    scan.registries.delete(registry);
  });
});

describe("the egress guard", () => {
  it("knows this machine (loopback, its own interfaces) from the rest", () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address ?? "");
    for (const h of [
      "localhost",
      "127.0.0.1",
      "127.3.2.1",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
      "0.0.0.0",
      ...own,
    ])
      expect(isLocal(h), h).toBe(true);
    for (const h of ["198.51.100.7", "open.feishu.cn", "::ffff:8.8.8.8", "2001:db8::1"].filter(
      (h) => !own.includes(h),
    ))
      expect(isLocal(h), h).toBe(false);
  });

  it("refuses a connection beyond loopback before it leaves, and records it", async () => {
    const before = scan.egress.length;
    const socket = connect({ host: "198.51.100.7", port: 443 });
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once("error", resolve));
    expect(err.code).toBe("EHOSTUNREACH");
    expect(err.message).toContain("this machine only");
    expect(scan.egress.slice(before)).toEqual([{ host: "198.51.100.7", port: "443" }]);
    scan.egress.splice(before); // Deliberate: this file must not fail for it.
  });

  it("refuses fetch to the internet", async () => {
    const before = scan.egress.length;
    await expect(fetch("https://open.feishu.cn/open-apis/")).rejects.toThrow();
    expect(scan.egress.slice(before).map((e) => e.host)).toEqual(["open.feishu.cn"]);
    scan.egress.splice(before);
  });
});
