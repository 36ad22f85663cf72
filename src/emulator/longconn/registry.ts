import type { LongConnection } from "./connection.js";

// The open connections of every app, and the deliveries waiting for one of them to become usable.

type Waiter = { appId: string; wake(): void };

export class ConnectionRegistry {
  private readonly byApp = new Map<string, Set<LongConnection>>();
  private readonly waiters = new Set<Waiter>();

  add(conn: LongConnection): void {
    const set = this.byApp.get(conn.appId) ?? new Set<LongConnection>();
    set.add(conn);
    this.byApp.set(conn.appId, set);
  }

  remove(conn: LongConnection): void {
    const set = this.byApp.get(conn.appId);
    set?.delete(conn);
    if (set?.size === 0) this.byApp.delete(conn.appId);
  }

  count(appId: string): number {
    return this.byApp.get(appId)?.size ?? 0;
  }

  /** Connections of one app, or of every app. */
  list(appId?: string): LongConnection[] {
    if (appId !== undefined) return [...(this.byApp.get(appId) ?? [])];
    return [...this.byApp.values()].flatMap((set) => [...set]);
  }

  /** Cluster mode: a random usable connection, preferring ones this delivery has not tried yet. */
  pick(appId: string, tried: ReadonlySet<string>): LongConnection | undefined {
    const usable = this.list(appId).filter((c) => c.usable);
    const fresh = usable.filter((c) => !tried.has(c.id));
    const pool = fresh.length > 0 ? fresh : usable;
    return pool[Math.floor(Math.random() * pool.length)];
  }

  /** Resolves when {@link wake} is called for the app (a connection became usable) or after `ms`. */
  waitForUsable(appId: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiter: Waiter = { appId, wake: () => done() };
      const timer = setTimeout(() => done(), ms);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  wake(appId?: string): void {
    for (const w of this.waiters) if (appId === undefined || w.appId === appId) w.wake();
  }

  clear(): void {
    this.wake();
    this.byApp.clear();
  }
}
