import { readFileSync } from "node:fs";

/**
 * The `environment` mapping of one service in a compose file, as `docker compose` hands it to the
 * container: `${VAR:-default}`, `${VAR-default}`, `${VAR}` and `$VAR` interpolated from `host`, unset
 * variables as "". Reads the block-style subset our compose file uses and throws on anything else,
 * so a construct it does not understand fails the test instead of being misread.
 */
export function composeEnvironment(
  path: string,
  service: string,
  host: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const lines = readFileSync(path, "utf8").split("\n");
  const serviceAt = lines.indexOf(`  ${service}:`);
  if (serviceAt < 0 || !lines.includes("services:")) throw new Error(`no service ${service} in ${path}`);
  const envAt = lines.indexOf("    environment:", serviceAt + 1);
  if (envAt < 0) throw new Error(`service ${service} has no environment mapping`);
  const env: Record<string, string> = {};
  for (const line of lines.slice(envAt + 1)) {
    if (line.trim() === "" || line.trim().startsWith("#")) continue;
    if (!line.startsWith("      ")) break;
    const m = /^ {6}([A-Za-z_][A-Za-z0-9_]*): ?(.*)$/.exec(line);
    if (!m?.[1]) throw new Error(`unsupported environment line: ${line}`);
    env[m[1]] = interpolate(unquote(m[2] ?? ""), host);
  }
  return env;
}

function unquote(raw: string): string {
  const v = raw.trim();
  if (/^"[^"]*"$/.test(v) || /^'[^']*'$/.test(v)) return v.slice(1, -1);
  if (v.includes(" #") || /^["'|>&*!]/.test(v)) throw new Error(`unsupported YAML value: ${raw}`);
  return v;
}

function interpolate(value: string, host: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced, bare) => {
    if (whole === "$$") return "$";
    if (bare) return host[bare] ?? "";
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$/.exec(braced);
    if (!m?.[1]) throw new Error(`unsupported interpolation: ${whole}`);
    const set = host[m[1]];
    if (m[2] === ":-") return set ? set : (m[3] ?? "");
    if (m[2] === "-") return set ?? m[3] ?? "";
    return set ?? "";
  });
}
