/**
 * Just enough of the PostgreSQL wire protocol to send messages one at a time, as the `pg` driver
 * never does: for tests of what the embedded server does between the messages of one statement.
 */
import { connect, type Socket } from "node:net";
import { join } from "node:path";

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string) => Buffer.from(`${s}\0`);
const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

/** Parse of the unnamed statement, no parameter types. */
export const parse = (sql: string) => message("P", Buffer.concat([cstr(""), cstr(sql), int16(0)]));
/** Bind of the unnamed portal to the unnamed statement, no parameters, text results. */
export const bind = () => message("B", Buffer.concat([cstr(""), cstr(""), int16(0), int16(0), int16(0)]));
export const execute = () => message("E", Buffer.concat([cstr(""), Buffer.alloc(4)]));
export const sync = () => message("S", Buffer.alloc(0));

/** A started-up connection to the server listening in `socketDir`. */
export interface RawWire {
  send(bytes: Buffer): void;
  /** Everything received up to the next ReadyForQuery, as latin1 text. */
  untilReady(): Promise<string>;
  close(): void;
}

export async function rawWire(socketDir: string, user = "postgres"): Promise<RawWire> {
  const socket: Socket = connect(join(socketDir, ".s.PGSQL.5432"));
  let received = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  socket.on("data", (d) => {
    received = Buffer.concat([received, d]);
    waiter?.();
  });
  const untilReady = async () => {
    for (;;) {
      const at = readyAt(received);
      if (at >= 0) {
        const text = received.subarray(0, at).toString("latin1");
        received = received.subarray(at);
        return text;
      }
      await new Promise<void>((r) => {
        waiter = r;
      });
    }
  };
  const params = Buffer.concat([
    cstr("user"),
    cstr(user),
    cstr("database"),
    cstr("postgres"),
    Buffer.from([0]),
  ]);
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(params.length + 8, 0);
  startup.writeInt32BE(196608, 4);
  socket.write(Buffer.concat([startup, params]));
  await untilReady();
  return { send: (b) => socket.write(b), untilReady, close: () => socket.destroy() };
}

/** The end offset of the first complete ReadyForQuery message, or -1. */
function readyAt(buf: Buffer): number {
  let i = 0;
  while (i + 5 <= buf.length) {
    const len = buf.readInt32BE(i + 1);
    if (i + 1 + len > buf.length) return -1;
    if (buf[i] === 0x5a) return i + 1 + len;
    i += 1 + len;
  }
  return -1;
}
