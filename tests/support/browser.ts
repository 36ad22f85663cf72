import { existsSync } from "node:fs";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/**
 * The system Chromium the browser tests drive (playwright-core never downloads one: nothing may
 * reach the internet). `CHROMIUM_PATH` overrides; Debian's `chromium` package is the default.
 */
export function chromiumPath(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  return CANDIDATES.find((p) => existsSync(p));
}

/**
 * Browser tests run whenever a Chromium is installed, and always in CI (`CI` set), where a
 * missing browser must fail the run rather than skip it. On a developer machine without one
 * they are skipped with a notice saying how to install it.
 */
export function skipBrowserTests(): boolean {
  if (chromiumPath() || process.env.CI) return false;
  console.warn("browser tests skipped: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)");
  return true;
}
