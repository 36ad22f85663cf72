import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

/** Who wrote a data-dir lock: enough to tell a dead holder from a live one without guessing. */
export interface LockOwner {
  /** os.hostname(): containers sharing a volume normally differ here. */
  readonly host: string;
  /** The kernel's boot id, "" where unreadable: a pid means nothing after a reboot. */
  readonly boot: string;
  /** The pid namespace ("pid:[…]"), "" where unreadable: a pid is only checkable inside its own. */
  readonly pidNs: string;
  readonly pid: number;
  /** Start time of `pid` in clock ticks since boot (/proc), "" where unreadable: tells a reused pid apart. */
  readonly start: string;
}

/** This process as a lock owner. */
export function currentOwner(): LockOwner {
  return {
    host: hostname(),
    boot: readOr("/proc/sys/kernel/random/boot_id").trim(),
    pidNs: linkOr("/proc/self/ns/pid"),
    pid: process.pid,
    start: startTimeOf(process.pid),
  };
}

/** Parses a lock file's text; undefined for anything not written by `formatOwner` (e.g. torn or foreign). */
export function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    const strings = [o.host, o.boot, o.pidNs, o.start].every((s) => typeof s === "string");
    return strings && Number.isSafeInteger(o.pid) && (o.pid as number) > 0 ? (o as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

export function formatOwner(owner: LockOwner): string {
  return `${JSON.stringify(owner)}\n`;
}

/** Same machine and same boot: the only case where a pid or a heartbeat can prove anything. */
export function sameMachine(a: LockOwner, b: LockOwner): boolean {
  return a.host === b.host && a.boot === b.boot;
}

/**
 * True when `owner` (same machine and pid namespace as this process) is certainly gone: its pid is
 * free, or now belongs to a process started at another time. The second case is a restarted
 * container whose new pid 1 finds the lock of the old pid 1: alive pid, different process.
 */
export function isDeadHere(owner: LockOwner): boolean {
  if (!isAlive(owner.pid)) return true;
  const start = startTimeOf(owner.pid);
  if (start !== "" && owner.start !== "") return start !== owner.start;
  // No /proc: only our own pid can be judged, and a lock of it from another process is stale.
  return owner.pid === process.pid;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Field 22 of /proc/<pid>/stat; the command name before it may hold spaces and parentheses. */
function startTimeOf(pid: number): string {
  const stat = readOr(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? "";
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function linkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}
