/**
 * The card burst's load generator, a process of its own (bench/card-burst.ts spawns it): a gRPC client
 * from the generated Connect stubs calling StartAuthorization for the users listed in its input file,
 * either all at once (`burst`) or one after another (`sequential`). It warms its connection up first,
 * then prints one JSON line: the wall-clock time of the first call, every latency (ms) and the failures.
 * Usage: node --import tsx bench/card-burst-load.ts <input.json>
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthService } from "../gen/lark/auth/v1/auth_service_pb.js";

export interface LoadInput {
  readonly grpcUrl: string;
  readonly key: string;
  readonly appId: string;
  readonly openIds: readonly string[];
  readonly mode: "burst" | "sequential";
}

export interface LoadOutput {
  /** Date.now() just before the first call: the orchestrator compares it with the emulator's card times. */
  readonly startWallMs: number;
  /** From the first call to the last answer. */
  readonly acceptMs: number;
  readonly latencies: number[];
  readonly failures: number;
  readonly firstError?: string;
}

const input = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as LoadInput;
const transport = createGrpcTransport({
  baseUrl: input.grpcUrl,
  interceptors: [
    (next) => (req) => {
      req.header.set("authorization", `Bearer ${input.key}`);
      return next(req);
    },
  ],
});
const auth = createClient(AuthService, transport);

// Warm-up: the HTTP/2 connection and this process's JIT, with a call that writes nothing.
for (let i = 0; i < 20; i++) {
  await auth.getAuthSession({ sessionId: "00000000-0000-4000-8000-000000000000" }).catch((err: unknown) => {
    if (ConnectError.from(err).code !== Code.NotFound) throw err;
  });
}

let failures = 0;
let firstError: string | undefined;
const one = async (openId: string): Promise<number> => {
  const begin = performance.now();
  try {
    await auth.startAuthorization({
      appId: input.appId,
      user: { id: { case: "openId", value: openId } },
      scopes: ["contact:user.base:readonly"],
    });
  } catch (err) {
    failures += 1;
    firstError ??= String(err);
  }
  return performance.now() - begin;
};

const startWallMs = Date.now();
const t0 = performance.now();
let latencies: number[];
if (input.mode === "burst") {
  latencies = await Promise.all(input.openIds.map(one));
} else {
  latencies = [];
  for (const id of input.openIds) latencies.push(await one(id));
}
const output: LoadOutput = {
  startWallMs,
  acceptMs: performance.now() - t0,
  latencies: latencies.sort((a, b) => a - b),
  failures,
  ...(firstError && { firstError }),
};
process.stdout.write(`${JSON.stringify(output)}\n`);
process.exit(0);
