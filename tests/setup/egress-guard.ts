import { isIP, Socket } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * Refuses every outbound TCP connection of this process to anything but this machine (loopback, or
 * an address of its own interfaces, which tests use to check what listens beyond loopback), so no test can
 * reach the internet (the real Lark, a registry, a collector), even by a wrong default. Every client
 * (http, https, http2, fetch, WebSocket, database drivers) connects through `Socket.prototype.connect`.
 * A refused connection fails like an unreachable host, and is recorded so the file fails too.
 */

/** One refused connection. */
export interface Egress {
  readonly host: string;
  readonly port: string;
}

const LOOPBACK_NAMES = new Set(["localhost", "0.0.0.0", "::", "::1"]);

let own: Set<string> | undefined;

/** True for addresses that stay on this machine. */
export function isLocal(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (LOOPBACK_NAMES.has(h) || h.endsWith(".localhost")) return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  if (isIP(v4) === 4 && v4.startsWith("127.")) return true;
  own ??= new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address.toLowerCase() ?? ""),
  );
  return own.has(v4) || own.has(h);
}

/** Host and port of any form `socket.connect` accepts; a path (IPC socket) has neither. */
function target(args: unknown[]): Egress | undefined {
  // net.connect passes its normalized [options, callback] pair as one array.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === "object") {
    const o = first as { host?: unknown; port?: unknown; path?: unknown };
    if (typeof o.path === "string") return undefined;
    return { host: typeof o.host === "string" ? o.host : "localhost", port: String(o.port) };
  }
  if (typeof first === "string" && !/^\d+$/.test(first)) return undefined;
  return { host: typeof args[1] === "string" ? args[1] : "localhost", port: String(first) };
}

const INSTALLED = Symbol.for("lark-auth.tests.egress-guard");

/** Installs the guard once per process; `refused` hears of each connection it stopped. */
export function installEgressGuard(refused: (egress: Egress) => void): void {
  const proto = Socket.prototype as Socket & { [INSTALLED]?: (e: Egress) => void };
  const first = proto[INSTALLED] === undefined;
  proto[INSTALLED] = refused;
  if (!first) return;
  const connect = proto.connect;
  proto.connect = function guardedConnect(this: Socket, ...args: unknown[]) {
    const to = target(args);
    if (to && !isLocal(to.host)) {
      proto[INSTALLED]?.(to);
      const err = Object.assign(
        new Error(`tests may not connect to ${to.host}:${to.port}: this machine only`),
        {
          code: "EHOSTUNREACH",
        },
      );
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return (connect as (...a: unknown[]) => Socket).apply(this, args);
  } as typeof connect;
}
