import { type FileConfig, PERMISSIONS, type Permission } from "./schema.js";
import type { CallerKeyConfig } from "./types.js";

/** The parsed config file and where it was read from. */
export interface ConfigFile {
  readonly config: FileConfig;
  readonly path: string;
}

/** A caller key and the setting it came from, so a problem names where to fix it. */
interface Sourced {
  readonly key: CallerKeyConfig;
  readonly setting: string;
}

function allPermissions(): ReadonlyMap<string, ReadonlySet<Permission>> {
  return new Map([["*", new Set<Permission>(PERMISSIONS)]]);
}

function envCallerKeys(spec: string | undefined, problems: string[]): Sourced[] {
  if (!spec?.trim()) return [];
  return spec.split(",").flatMap((entry, i) => {
    const [name, hash] = entry.trim().split("=");
    if (!name || !hash || !/^[0-9a-f]{64}$/i.test(hash)) {
      // Named by position only: a malformed entry may be a pasted raw key, and this line is printed.
      problems.push(`LARK_AUTH_CALLER_KEYS: entry ${i + 1} must be name=<sha256 hex of the key>`);
      return [];
    }
    const key = { name, keySha256: hash.toLowerCase(), permissions: allPermissions() };
    return [{ key, setting: "LARK_AUTH_CALLER_KEYS" }];
  });
}

function fileCallerKeys(file: ConfigFile | undefined): Sourced[] {
  return (file?.config.caller_keys ?? []).map((c) => ({
    key: {
      name: c.name,
      keySha256: c.key_sha256,
      permissions: new Map(Object.entries(c.permissions).map(([app, perms]) => [app, new Set(perms)])),
    },
    setting: `LARK_AUTH_CONFIG ${file?.path}`,
  }));
}

/**
 * A permission on an app that is not configured is a typo that would silently grant nothing
 * (or, once the app is added later, grant more than the operator reviewed).
 */
function checkPermissionApps(keys: readonly Sourced[], appIds: ReadonlySet<string>, problems: string[]) {
  for (const { key, setting } of keys) {
    for (const app of key.permissions.keys()) {
      if (app !== "*" && !appIds.has(app))
        problems.push(
          `${setting}: caller key ${key.name} names app ${app}, which is not configured (or use *)`,
        );
    }
  }
}

/** Two entries with one hash would make one key act as both: whichever matched first would win. */
function checkDuplicateHashes(keys: readonly Sourced[], problems: string[]) {
  const seen = new Map<string, Sourced>();
  for (const entry of keys) {
    const first = seen.get(entry.key.keySha256);
    if (first)
      problems.push(
        `${entry.setting}: caller key ${entry.key.name} has the same key hash as ${first.key.name}`,
      );
    else seen.set(entry.key.keySha256, entry);
  }
}

/** Caller keys from the config file and LARK_AUTH_CALLER_KEYS, checked against the configured app ids. */
export function resolveCallerKeys(
  file: ConfigFile | undefined,
  envSpec: string | undefined,
  appIds: ReadonlySet<string>,
  problems: string[],
): CallerKeyConfig[] {
  const keys = [...fileCallerKeys(file), ...envCallerKeys(envSpec, problems)];
  checkPermissionApps(keys, appIds, problems);
  checkDuplicateHashes(keys, problems);
  return keys.map((k) => k.key);
}
