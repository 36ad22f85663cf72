import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The README promises that its "calling from another language" commands are what CI runs; this keeps
// the promise when either side changes.
const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

const SECTION_START = "## Calling it from another language";
const RUN_BY_CI = [
  ".ci/run",
  "examples/run.sh",
  "examples/shell.sh",
  "examples/go/build.sh",
  "examples/java/build.sh",
];

function sectionCommands(readme: string): string[] {
  const start = readme.indexOf(SECTION_START);
  const end = readme.indexOf("\n## ", start + SECTION_START.length);
  const section = readme.slice(start, end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  return (
    blocks
      .flatMap((block) => block.split("\n"))
      .map((line) => line.replace(/\s{2,}#.*$/, "").trim())
      .filter((line) => line !== "" && !line.startsWith("#"))
      // The reader's own settings (GRPC=..., KEY=...) stand in for what the scripts get from their environment.
      .filter((line) => !/^(export )?[A-Z_]+=\S*( [A-Z_]+=\S*)*$/.test(line))
  );
}

describe("README: calling it from another language", () => {
  const commands = sectionCommands(read("README.md"));
  const scripts = RUN_BY_CI.map(read)
    .flatMap((text) => text.split("\n"))
    .map((line) => line.trim());

  it("shows commands for every route", () => {
    for (const route of [
      "examples/python/",
      "examples/go/build.sh",
      "examples/java/build.sh",
      "buf curl",
      "curl -sS",
    ]) {
      expect(commands.some((c) => c.includes(route))).toBe(true);
    }
  });

  it("copies every command line from a script CI runs", () => {
    expect(commands.filter((c) => !scripts.includes(c))).toEqual([]);
  });
});
