// Keeps the architecture's arrows pointing inward (guides/architecture.md): fails when a module
// imports across a boundary it must not cross. Runs as part of `npm run lint`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const layerOf = (file) => {
  const rel = relative(root, file);
  if (rel.startsWith("gen/")) return "gen";
  const m = /^src\/([^/]+?)(\.ts)?(\/|$)/.exec(rel);
  return m ? m[1] : rel;
};

/** layer -> layers (and packages) it may not import. */
const RULES = {
  domain: {
    layers: (l) => l !== "domain",
    packages: true,
    why: "domain/ is pure: no transport, storage, SDK or gen/",
  },
  emulator: { layers: (l) => l !== "emulator", why: "emulator/ stands alone so it can ship as its own tool" },
  store: {
    layers: (l) => ["rpc", "http", "lark", "gen", "events", "jobs", "emulator"].includes(l),
    why: "store/ implements domain ports only",
  },
  crypto: { layers: (l) => !["crypto", "domain"].includes(l), why: "crypto/ is a leaf" },
  telemetry: { layers: (l) => !["telemetry", "domain"].includes(l), why: "telemetry/ is a leaf" },
  config: { layers: (l) => l !== "config", why: "config/ is read by everyone and reads no one" },
  rpc: {
    layers: (l) => ["store", "http", "jobs", "emulator"].includes(l),
    why: "rpc/ reaches storage only through domain ports",
  },
  http: {
    layers: (l) => ["store", "jobs", "emulator"].includes(l),
    why: "http/ reaches storage only through domain ports",
  },
  lark: {
    layers: (l) => !["lark", "domain", "config", "telemetry"].includes(l),
    why: "lark/ adapts Lark to domain ports; it sees domain, config types and telemetry only",
  },
  jobs: {
    layers: (l) => ["rpc", "http", "store", "lark", "events", "crypto", "emulator", "gen"].includes(l),
    why: "jobs/ reach storage and Lark only through ports",
  },
};
const GEN_ALLOWED = new Set(["rpc", "events", "app", "gen"]);
const EMULATOR_ALLOWED = new Set(["emulator", "sandbox"]);
// flow/ is the authorization flow's part of the composition root, split out of app.ts.
const LARK_ALLOWED = new Set(["lark", "app", "flow"]);

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

const problems = [];
for (const file of files(join(root, "src"))) {
  const from = layerOf(file);
  const text = readFileSync(file, "utf8");
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
    const rule = RULES[from];
    if (!spec.startsWith(".")) {
      const builtin = spec.startsWith("node:");
      if (rule?.packages && !builtin)
        problems.push(`${relative(root, file)}: imports package ${spec} (${rule.why})`);
      continue;
    }
    const to = layerOf(resolve(dirname(file), spec));
    if (to === "gen" && !GEN_ALLOWED.has(from))
      problems.push(`${relative(root, file)}: imports gen/ (only rpc/, events/ and app.ts may)`);
    else if (to === "lark" && !LARK_ALLOWED.has(from))
      problems.push(`${relative(root, file)}: imports lark/ (only app.ts may)`);
    else if (to === "emulator" && !EMULATOR_ALLOWED.has(from))
      problems.push(`${relative(root, file)}: imports emulator/ (only sandbox.ts may)`);
    else if (rule?.layers(to)) problems.push(`${relative(root, file)}: imports ${to}/ (${rule.why})`);
  }
}
if (problems.length > 0) {
  console.error(`layer boundaries crossed:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}
console.log("layer boundaries: ok");
