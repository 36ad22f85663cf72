/**
 * The suite-wide secret scan's bookkeeping (reliability plan S8): every secret a test file plants or
 * the code under test issues is recorded here, every log line, span and metrics exposition it
 * produces is scanned as it appears, and what was found is reported when the file ends.
 *
 * Matching follows S8: a secret counts as leaked when any 16-character piece of its random part
 * appears (12 characters is the plan's floor), so a token cut short, URL-encoded or embedded in a
 * longer string is still found. Secrets shorter than that (a device user code) match whole. Shapes
 * no output may ever hold (a bearer credential, a three-part JWT, a caller key) fail even when no
 * one recorded the value, so a secret made somewhere this file does not watch is caught too.
 */

/** Where a scanned text came from. */
export type OutputKind = "log" | "span" | "metrics";

/** One leak: what leaked (by source label, never the value) and where. */
export interface Leak {
  readonly secret: string;
  readonly kind: OutputKind;
  /** The output around the leak with the secret masked, to find the line that wrote it. */
  readonly excerpt: string;
}

const PIECE = 16;
/** The shortest value worth recording: a device user code (`BCDF-GHJK`) is 9. */
const MIN_SECRET = 8;
/** Secrets at least this long are matched by pieces; shorter ones whole. */
const MIN_PIECE_SOURCE = 12;
/** Runs of characters a secret is made of: anything but whitespace, quotes, brackets and separators. */
const RUN = /[^\s"'`\\<>{}()[\],;]{16,}/g;
const MAX_LEAKS = 20;

const SHAPES: readonly [string, RegExp][] = [
  ["a bearer credential", /\bBearer\s+(?!\[REDACTED\])[A-Za-z0-9._~+/-]{8,}/],
  ["a JWT-shaped token", /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/],
  ["a caller key (lak_…)", /\blak_[A-Za-z0-9_-]{16,}/],
];

/** The random part of a secret: a JWT's signature (its header and claims prefix are shared by all). */
function randomPart(value: string): string {
  const parts = value.split(".");
  return parts.length === 3 && value.startsWith("eyJ") ? (parts[2] as string) : value;
}

export class LeakLedger {
  /** 16-character pieces of long secrets, to the secret's source label. */
  readonly #pieces = new Map<string, string>();
  readonly #short = new Map<string, string>();
  readonly #leaks: Leak[] = [];
  #secrets = 0;
  readonly #scanned: Record<OutputKind, number> = { log: 0, span: 0, metrics: 0 };

  /** Records a secret; `source` names it in a failure (`emulator code`, `app secret`, …). */
  secret(value: string | undefined, source: string): void {
    // Shorter values ("s", "x") are placeholders, not secrets a scan could find meaningfully.
    if (!value || value.length < MIN_SECRET) return;
    this.#secrets += 1;
    const forms = new Set([randomPart(value), encodeURIComponent(randomPart(value))]);
    for (const form of forms) {
      if (form.length < MIN_PIECE_SOURCE) {
        this.#short.set(form, source);
        continue;
      }
      // Pieces at a stride: any window of 2*PIECE-1 characters of the secret holds one whole piece.
      for (let i = 0; i + PIECE <= form.length; i += PIECE)
        this.#pieces.set(form.slice(i, i + PIECE), source);
      this.#pieces.set(form.slice(-PIECE), source);
    }
  }

  /** Scans one output as it is produced. */
  output(kind: OutputKind, text: string): void {
    this.#scanned[kind] += 1;
    if (this.#leaks.length >= MAX_LEAKS) return;
    for (const [name, shape] of SHAPES) {
      const m = shape.exec(text);
      if (m) this.#found(name, kind, text, m.index, m[0].length);
    }
    for (const [value, source] of this.#short) {
      const at = text.indexOf(value);
      if (at >= 0) this.#found(source, kind, text, at, value.length);
    }
    if (this.#pieces.size === 0) return;
    for (const run of text.matchAll(RUN)) {
      const s = run[0];
      for (let i = 0; i + PIECE <= s.length; i++) {
        const source = this.#pieces.get(s.slice(i, i + PIECE));
        if (source !== undefined) {
          this.#found(source, kind, text, run.index + i, PIECE);
          break;
        }
      }
    }
  }

  leaks(): readonly Leak[] {
    return this.#leaks;
  }

  /** How many secrets were recorded and outputs scanned: a scan that watched none proves nothing. */
  stats(): { secrets: number } & Readonly<Record<OutputKind, number>> {
    return { secrets: this.#secrets, ...this.#scanned };
  }

  #found(secret: string, kind: OutputKind, text: string, at: number, length: number): void {
    const before = text.slice(Math.max(0, at - 80), at);
    const after = text.slice(at + length, at + length + 80);
    this.#leaks.push({ secret, kind, excerpt: `${before}«${secret}»${after}` });
  }
}

/** The failure message for a file's leaks. */
export function describeLeaks(leaks: readonly Leak[]): string {
  return [
    `${leaks.length} secret(s) reached the logs, spans or metrics of this test file:`,
    ...leaks.map((l) => `  ${l.secret} in a ${l.kind}: ${l.excerpt.replace(/\s+/g, " ")}`),
  ].join("\n");
}
