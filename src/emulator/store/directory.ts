import {
  newAppId,
  newAppSecret,
  newTenantKey,
  openIdFor,
  randomHex,
  randomUrlSafe,
  unionIdFor,
  userIdFor,
} from "../ids.js";

/** How an app receives events and card callbacks. */
export type EventMode = "websocket" | "webhook";

/** A registered self-built app, as the developer console would know it. */
export interface AppRecord {
  appId: string;
  appSecret: string;
  name: string;
  tenantKey: string;
  verificationToken: string;
  encryptKey?: string;
  eventMode: EventMode;
  webhookUrl?: string;
  /** Registered redirect URLs; empty means "accept any" (a sandbox convenience, not Lark behaviour). */
  redirectUrls: string[];
  /** Scopes enabled for the app; undefined means every scope is enabled. */
  scopes?: string[];
}

export interface RegisterAppInput {
  app_id?: string;
  app_secret?: string;
  name?: string;
  tenant_key?: string;
  encrypt_key?: string;
  verification_token?: string;
  event_mode?: EventMode;
  webhook_url?: string;
  redirect_urls?: string[];
  scopes?: string[];
}

/** A person in a tenant. `key` is internal; the platform ids are derived from (tenant, seed[, app]). */
export interface UserRecord {
  key: string;
  tenantKey: string;
  seed: string;
  name: string;
  enName: string;
  email: string;
  mobile?: string;
  employeeNo?: string;
  userId: string;
  unionId: string;
}

export interface CreateUserInput {
  name: string;
  email?: string;
  en_name?: string;
  mobile?: string;
  employee_no?: string;
  tenant_key?: string;
  /** What the ids derive from; defaults to the email, then the name. */
  seed?: string;
}

export const DEFAULT_TENANT_KEY = newTenantKey("default");

/** Apps and users of every tenant, with the per-app id scoping the platform applies. */
export class Directory {
  readonly #apps = new Map<string, AppRecord>();
  readonly #users = new Map<string, UserRecord>();
  /** Every id (open_id of each app, union_id, user_id, email) -> user key. */
  readonly #ids = new Map<string, string>();

  registerApp(input: RegisterAppInput): AppRecord {
    const app: AppRecord = {
      appId: input.app_id ?? newAppId(),
      appSecret: input.app_secret ?? newAppSecret(),
      name: input.name ?? "Emulated app",
      tenantKey: input.tenant_key ?? DEFAULT_TENANT_KEY,
      verificationToken: input.verification_token ?? randomUrlSafe(32),
      encryptKey: input.encrypt_key,
      eventMode: input.event_mode ?? (input.webhook_url ? "webhook" : "websocket"),
      webhookUrl: input.webhook_url,
      redirectUrls: input.redirect_urls ?? [],
      scopes: input.scopes,
    };
    this.#apps.set(app.appId, app);
    for (const user of this.#users.values()) this.#indexUser(user);
    return app;
  }

  app(appId: string): AppRecord | undefined {
    return this.#apps.get(appId);
  }

  apps(): AppRecord[] {
    return [...this.#apps.values()];
  }

  /** Creating the same (tenant, seed) twice returns the existing user: ids are a pure function of them. */
  createUser(input: CreateUserInput): UserRecord {
    const tenantKey = input.tenant_key ?? DEFAULT_TENANT_KEY;
    const seed = input.seed ?? input.email ?? input.name;
    const key = `${tenantKey}/${seed}`;
    const existing = this.#users.get(key);
    if (existing) return existing;
    const slug = seed.toLowerCase().replace(/[^a-z0-9]+/g, ".");
    const user: UserRecord = {
      key,
      tenantKey,
      seed,
      name: input.name,
      enName: input.en_name ?? input.name,
      email: input.email ?? `${slug}@example.com`,
      mobile: input.mobile,
      employeeNo: input.employee_no ?? randomHex(6),
      userId: userIdFor(tenantKey, seed),
      unionId: unionIdFor(tenantKey, seed),
    };
    this.#users.set(key, user);
    this.#indexUser(user);
    return user;
  }

  users(tenantKey?: string): UserRecord[] {
    const all = [...this.#users.values()];
    return tenantKey ? all.filter((u) => u.tenantKey === tenantKey) : all;
  }

  user(key: string): UserRecord | undefined {
    return this.#users.get(key);
  }

  /** Finds a user by any of their ids (an open_id of any app, union_id, user_id or email). */
  findUser(anyId: string): UserRecord | undefined {
    const key = this.#ids.get(anyId);
    return key ? this.#users.get(key) : undefined;
  }

  /** The user's open_id as seen by `appId`. */
  openId(user: UserRecord, appId: string): string {
    const app = this.#apps.get(appId);
    return openIdFor(app?.tenantKey ?? user.tenantKey, user.seed, appId);
  }

  /** The app whose open_id this is, if it is one. */
  appOfOpenId(openId: string): AppRecord | undefined {
    const user = this.findUser(openId);
    if (!user) return undefined;
    return this.apps().find((app) => this.openId(user, app.appId) === openId);
  }

  #indexUser(user: UserRecord): void {
    this.#ids.set(user.unionId, user.key);
    this.#ids.set(user.userId, user.key);
    this.#ids.set(user.email, user.key);
    for (const app of this.#apps.values()) {
      if (app.tenantKey === user.tenantKey) this.#ids.set(this.openId(user, app.appId), user.key);
    }
  }
}
