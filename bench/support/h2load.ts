// Driving h2load (Debian's nghttp2-client) at a unary gRPC method, a separate process so the client
// never saturates before the server does, and the small statistics every unary bench reports.
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";

/** The load shape every unary bench uses: 2 connections × 50 concurrent streams, one h2load thread. */
export const LOAD_SHAPE = "h2load -c 2 -m 50 -t 1 (2 connections, 50 concurrent streams each)";

export interface H2loadTarget {
  readonly port: number;
  /** The gRPC method path, e.g. `/lark.auth.v1.AuthService/GetAuthSession`. */
  readonly path: string;
  /** A file holding the 5-byte gRPC prefix and the encoded request (see writeGrpcFrame). */
  readonly payloadFile: string;
  readonly callerKey: string;
}

export interface H2loadRun {
  /** Requests per second over the whole run, as h2load reports it. */
  readonly rate: number;
  /** Every request's time to the end of its response (ms), sorted ascending. */
  readonly latencies: Float64Array;
}

/** True when h2load is on the PATH; a bench skips with one line otherwise. */
export async function haveH2load(): Promise<boolean> {
  return promisify(execFile)("h2load", ["--version"]).then(
    () => true,
    () => false,
  );
}

/** Writes `message` framed as one gRPC message (uncompressed) to `dir`/`name`; returns the path. */
export function writeGrpcFrame(dir: string, name: string, message: Uint8Array): string {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  const file = join(dir, name);
  writeFileSync(file, Buffer.concat([header, Buffer.from(message)]));
  return file;
}

/**
 * One h2load run of `requests` calls. Asynchronous on purpose: the servers under test may live in this
 * process and must keep serving meanwhile. Latencies come from h2load's per-request log, not its means.
 * h2load counts HTTP 200 as success, and gRPC reports errors in trailers: callers check separately
 * that the calls really succeeded (see the token bench's audit count).
 */
export async function runH2load(target: H2loadTarget, requests: number, logDir: string): Promise<H2loadRun> {
  const log = join(logDir, `h2load-${target.port}.log`);
  const { stdout: out } = await promisify(execFile)(
    "h2load",
    [
      ...["-n", String(requests), "-c", "2", "-m", "50", "-t", "1"],
      ...["-H", "content-type: application/grpc", "-H", "te: trailers"],
      ...["-H", `authorization: Bearer ${target.callerKey}`],
      ...["-d", target.payloadFile, `--log-file=${log}`],
      `http://127.0.0.1:${target.port}${target.path}`,
    ],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded/.exec(out);
  if (!done || done[2] !== String(requests)) throw new Error(`h2load did not finish cleanly:\n${out}`);
  const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  const latencies = readLatencies(log);
  rmSync(log, { force: true });
  return { rate: Number(rate?.[1]), latencies };
}

/** The third column of h2load's log (µs to the end of the response), in ms, sorted. */
function readLatencies(file: string): Float64Array {
  const lines = readFileSync(file, "utf8").split("\n");
  const out = new Float64Array(lines.length);
  let n = 0;
  for (const line of lines) {
    const micros = Number(line.split("\t")[2]);
    if (line && Number.isFinite(micros)) out[n++] = micros / 1000;
  }
  return out.subarray(0, n).sort();
}

/** The p-th percentile (0-100) of ascending `sorted`, nearest rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The median (upper one for an even count), the verdict statistic of every bench. */
export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Binds `server` on an ephemeral loopback port. */
export function listenGrpc(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
}

/** A bare grpc-js server for one unary path, bytes in and out untouched, answering with `handle`. */
export function bareUnaryServer(path: string, handle: (request: Buffer) => Promise<Buffer> | Buffer) {
  const server = new grpc.Server();
  const passthrough = (b: Buffer) => b;
  const name = path.slice(path.lastIndexOf("/") + 1);
  server.addService(
    {
      [name]: {
        path,
        requestStream: false,
        responseStream: false,
        requestSerialize: passthrough,
        requestDeserialize: passthrough,
        responseSerialize: passthrough,
        responseDeserialize: passthrough,
      },
    },
    {
      [name]: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const answer = handle(call.request);
        // A synchronous answer goes out at once: the no-op anchor must not pay for a promise.
        if (Buffer.isBuffer(answer)) return cb(null, answer);
        answer.then(
          (b) => cb(null, b),
          (err: unknown) => cb({ code: grpc.status.INTERNAL, details: String(err) }),
        );
      },
    },
  );
  return server;
}
