// A real TCP hop between a client and a server, so a test can break connections the way a network or
// a load balancer does (sockets reset mid-stream, connections refused) without touching either end.
import { createConnection, createServer, type Socket } from "node:net";

export interface TcpProxy {
  /** `http://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  /** Connections accepted so far (refused ones included). */
  accepted(): number;
  /** Resets every open connection, both sides. */
  cut(): void;
  /** While on, every new connection is reset as soon as it is accepted. */
  refuse(on: boolean): void;
  /** Resets the next `n` connections as soon as they are accepted. */
  refuseNext(n: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  let refusing = false;
  let refuseNext = 0;
  const server = createServer((client) => {
    accepted++;
    if (refusing || refuseNext > 0) {
      refuseNext = Math.max(0, refuseNext - 1);
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.pipe(b);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        open.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const cut = () => {
    for (const socket of open) socket.resetAndDestroy();
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    cut,
    refuse(on) {
      refusing = on;
    },
    refuseNext(n) {
      refuseNext = n;
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
