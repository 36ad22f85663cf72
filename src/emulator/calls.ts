/** One row of `GET /_emulator/calls`. */
export interface CallCount {
  method: string;
  path: string;
  app_id: string | null;
  count: number;
}

/** Counts Open Platform calls per route and app, so tests can assert caching and retries. */
export class CallCounter {
  readonly #counts = new Map<string, CallCount>();

  record(method: string, path: string, appId: string | undefined): void {
    const key = `${method} ${path}\n${appId ?? ""}`;
    const row = this.#counts.get(key) ?? { method, path, app_id: appId ?? null, count: 0 };
    row.count += 1;
    this.#counts.set(key, row);
  }

  list(filter: { appId?: string; path?: string } = {}): CallCount[] {
    return [...this.#counts.values()].filter(
      (row) =>
        (filter.appId === undefined || row.app_id === filter.appId) &&
        (filter.path === undefined || row.path === filter.path),
    );
  }

  reset(): void {
    this.#counts.clear();
  }
}
