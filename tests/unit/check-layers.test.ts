import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const CHECKER = join(import.meta.dirname, "../../scripts/check-layers.mjs");

/** Writes a fixture project (path -> source) and runs the layer checker on it. */
function checkFixture(files: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(join(tmpdir(), "layers-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const run = spawnSync(process.execPath, [CHECKER, root], { encoding: "utf8" });
  return { status: run.status, output: run.stdout + run.stderr };
}

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe("scripts/check-layers.mjs", () => {
  it("passes a project whose arrows point inward", () => {
    const r = checkFixture({
      "src/domain/errors.ts": "export const x = 1;\n",
      "src/store/s.ts": 'import { x } from "../domain/errors.js";\n',
      "src/rpc/r.ts": 'import type { T } from "../shutdown.js";\nimport "../../gen/a_pb.js";\n',
      "src/shutdown.ts": 'import type { Server } from "node:http";\n',
      "src/app.ts": 'import "./store/s.js";\nimport "./rpc/r.js";\n',
    });
    expect(r.output).toContain("layer boundaries: ok");
    expect(r.status).toBe(0);
  });

  it("fails on each rule the issue named: store/rpc importing app.ts, domain doing I/O, the rpc-shutdown circle", () => {
    const r = checkFixture({
      "src/domain/d.ts": 'import { readFileSync } from "node:fs";\n',
      "src/store/s.ts": 'import { buildApp } from "../app.js";\n',
      "src/rpc/r.ts": 'const m = await import("../app.js");\n',
      "src/shutdown.ts": 'import { shuttingDown } from "./rpc/errors.js";\n',
      "src/app.ts": "export {};\n",
    });
    expect(r.status).toBe(1);
    expect(r.output).toContain("src/domain/d.ts: imports node:fs");
    expect(r.output).toContain("src/store/s.ts: imports app");
    expect(r.output).toContain("src/rpc/r.ts: imports app");
    expect(r.output).toContain("src/shutdown.ts: imports rpc");
  });

  it("fails on a folder or top file that has no rule, and on gen/ or emulator/ reached from the wrong layer", () => {
    const r = checkFixture({
      "src/misc/m.ts": "export {};\n",
      "src/helpers.ts": "export {};\n",
      "src/store/s.ts": 'import "../../gen/a_pb.js";\nimport "../emulator/index.js";\n',
    });
    expect(r.status).toBe(1);
    expect(r.output).toContain("src/misc: no layer rule");
    expect(r.output).toContain("src/helpers: no layer rule");
    expect(r.output).toContain("src/store/s.ts: imports gen");
    expect(r.output).toContain("src/store/s.ts: imports emulator");
  });
});
