/**
 * A child process racing for a data-dir lock (tests/integration/store-data-dir-lock.test.ts):
 * prints "ready", tries the lock on "go", prints "won" or "lost <reason>", and a winner holds the
 * lock until its stdin closes, so the losers race against a live holder, as real replicas would.
 */
import { once } from "node:events";
import { lockDataDir } from "../../src/store/data-dir-lock.js";

const dir = process.argv[2] as string;
process.stdout.write("ready\n");
await once(process.stdin, "data");
try {
  const release = await lockDataDir(dir);
  process.stdout.write("won\n");
  process.stdin.resume();
  await once(process.stdin, "end");
  await release();
} catch (err) {
  process.stdout.write(`lost ${(err as Error).message}\n`);
}
process.exit(0);
