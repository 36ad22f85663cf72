import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type EncryptionKey, parseEncryptionKeys, type ServiceConfig } from "./config/index.js";
import { generateCallerKey } from "./crypto/caller-keys.js";

/** Where a sandbox secret came from: the environment, or a file in the data dir. */
export interface SecretSource {
  readonly origin: "env" | "created" | "reused";
  /** The file keeping it, unless it came from the environment. */
  readonly path?: string;
}

/** A sandbox secret and where it came from. */
export interface KeptSecret extends SecretSource {
  readonly value: string;
}

async function readKept(path: string): Promise<string | undefined> {
  const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  // Loosened by a copy or a restore: it holds a key, so only its owner may read it.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return text.trim();
}

/**
 * Reads the secret kept at `dir/name`, or creates it (mode 0600) for the next start to reuse. The file
 * appears complete or not at all (written aside, then hard-linked), so two starts racing agree on one
 * value. A damaged file stops the start naming the file, never printing what it holds.
 */
async function keepSecret(
  dir: string,
  name: string,
  create: () => string,
  valid: (s: string) => boolean,
): Promise<KeptSecret> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  const reuse = (value: string): KeptSecret => {
    if (!valid(value)) throw new Error(`${path} is damaged: delete it to let the sandbox make a new one`);
    return { value, origin: "reused", path };
  };
  const existing = await readKept(path);
  if (existing !== undefined) return reuse(existing);
  const value = create();
  const aside = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(aside, `${value}\n`, { mode: 0o600, flag: "wx" });
  try {
    await link(aside, path);
    return { value, origin: "created", path };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return reuse((await readKept(path)) ?? "");
  } finally {
    await rm(aside, { force: true });
  }
}

/**
 * The sandbox's development caller key: LARK_AUTH_DEV_CALLER_KEY, else the one kept in the data dir,
 * so scripts and clients configured with the printed key keep working after a restart.
 */
export function sandboxDevCallerKey(config: ServiceConfig): Promise<KeptSecret> {
  const fixed = config.sandbox.devCallerKey;
  if (fixed !== undefined) return Promise.resolve({ value: fixed, origin: "env" });
  const valid = (s: string) => /^\S{16,}$/.test(s);
  return keepSecret(config.dataDir, "sandbox-dev-caller-key", generateCallerKey, valid);
}

/**
 * The keys sealing Lark tokens: LARK_AUTH_ENCRYPTION_KEYS, else one sandbox key kept in the data dir,
 * so grants sealed before a restart still open after it.
 */
export async function sandboxEncryptionKeys(
  config: ServiceConfig,
): Promise<{ keys: EncryptionKey[]; source: SecretSource }> {
  if (config.encryptionKeys.length > 0)
    return { keys: [...config.encryptionKeys], source: { origin: "env" } };
  const parse = (spec: string) => parseEncryptionKeys(spec, "sandbox key", []);
  const create = () => `sandbox=${randomBytes(32).toString("base64")}`;
  const kept = await keepSecret(
    config.dataDir,
    "sandbox-encryption-key",
    create,
    (s) => parse(s).length === 1,
  );
  return { keys: parse(kept.value), source: { origin: kept.origin, path: kept.path } };
}
