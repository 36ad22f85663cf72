// Keeps the architecture's arrows pointing inward (guides/architecture.md): fails when a module
// imports across a boundary it must not cross. Runs as part of `npm run lint`.
// Usage: node scripts/check-layers.mjs [project root]   (a root argument lets tests run it on fixtures)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), ".."));

/**
 * Every folder and top file under src/ (without `.ts`), with the other layers it may import.
 * An allow-list, so a new edge is a decision made here, and a layer missing here is an error.
 * `packages: false` also forbids npm packages and node: built-ins (a pure layer).
 */
const LAYERS = {
  domain: {
    may: [],
    packages: false,
    // Pure computation only (HMAC, hashing): no built-in that reaches a file, socket or process.
    builtins: ["node:crypto"],
    why: "domain/ is pure: no I/O, storage, transport, SDK or gen/",
  },
  config: { may: [], why: "config/ is read by everyone and reads no one" },
  telemetry: { may: [], why: "telemetry/ is a leaf" },
  crypto: { may: ["domain"], why: "crypto/ is a leaf beside the domain" },
  shutdown: { may: [], why: "shutdown.ts states the lifecycle; the transports depend on it, not back" },
  store: { may: ["domain", "crypto", "telemetry", "config"], why: "store/ implements domain ports only" },
  lark: { may: ["domain", "crypto", "telemetry", "config"], why: "lark/ implements domain ports only" },
  jobs: { may: ["domain", "telemetry", "config"], why: "jobs/ reach storage only through domain ports" },
  events: {
    may: ["domain", "gen", "wire", "telemetry", "config"],
    why: "events/ reach storage through ports",
  },
  wire: {
    may: ["domain", "gen"],
    why: "wire/ is the one protobuf shape of domain values, shared by rpc/ and events/",
  },
  rpc: {
    may: ["domain", "gen", "wire", "events", "crypto", "telemetry", "config", "shutdown"],
    why: "rpc/ reaches storage only through domain ports",
  },
  http: {
    may: ["domain", "rpc", "lark", "events", "telemetry", "config", "shutdown"],
    why: "http/ reaches storage only through domain ports",
  },
  emulator: { may: [], why: "emulator/ stands alone so it can ship as its own tool" },
  client: { may: ["gen"], why: "client/ ships to callers: the contract only" },
  cli: { may: ["config", "store", "crypto", "telemetry", "sandbox-secrets"], why: "cli/ runs store tasks" },
  sandbox: {
    may: ["config", "crypto", "telemetry", "emulator", "sandbox-secrets"],
    why: "only sandbox.ts may start the emulator",
  },
  "sandbox-secrets": {
    may: ["config", "crypto"],
    why: "the secrets sandbox mode keeps in the data dir; shared by sandbox.ts and the CLI",
  },
  main: { may: ["app", "config", "telemetry", "shutdown", "sandbox"], why: "main.ts only starts the app" },
  app: { may: "*", why: "app.ts is the composition root" },
  compose: { may: "*", why: "compose/ holds the parts of the composition root that app.ts builds" },
  flow: { may: "*", why: "flow/ is the authorization flow's part of the composition root" },
};

/** The layer a file belongs to: gen/, a folder under src/, or a top file of src/ (without .ts). */
function layerOf(file) {
  const rel = relative(root, file);
  if (rel.startsWith("gen/")) return "gen";
  const m = /^src\/([^/]+?)(?:\.ts|\.js)?(?:\/|$)/.exec(rel);
  return m ? m[1] : `outside src/ (${rel})`;
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

/** The problems of one import of `spec` by `file` (of layer `from`). */
function check(file, from, spec) {
  const rule = LAYERS[from];
  const where = relative(root, file);
  if (!spec.startsWith(".")) {
    const allowed = rule.packages !== false || (rule.builtins ?? []).includes(spec);
    return allowed ? [] : [`${where}: imports ${spec} (${rule.why})`];
  }
  const to = layerOf(resolve(dirname(file), spec));
  if (to === from || rule.may === "*" || rule.may.includes(to)) return [];
  return [`${where}: imports ${to} (${rule.why})`];
}

const problems = [];
const seen = new Set();
for (const file of files(join(root, "src"))) {
  const from = layerOf(file);
  if (!(from in LAYERS)) {
    if (!seen.has(from)) problems.push(`src/${from}: no layer rule (add it to scripts/check-layers.mjs)`);
    seen.add(from);
    continue;
  }
  const text = readFileSync(file, "utf8");
  for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
    problems.push(...check(file, from, spec));
  }
}
if (problems.length > 0) {
  console.error(`layer boundaries crossed:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}
console.log("layer boundaries: ok");
