import type { Database } from "./database.js";
import { LarkAppSchema } from "./entities/index.js";
import { storeCall } from "./store-errors.js";

/** The configured facts about an app that the database keeps (a LarkAppConfig fits; its secret is ignored). */
export interface AppRecord {
  readonly appId: string;
  readonly name: string;
  readonly domain: string;
  readonly flow: "redirect" | "device";
}

/**
 * Makes a `lark_app` row exist for every configured app, with the configured name, domain and
 * flow; sessions, grants and events reference these rows. Idempotent and safe on several replicas
 * at once (insert ... on conflict update). Apps missing from the configuration are kept: their
 * sessions, grants and events still reference them.
 */
export async function syncApps(db: Database, apps: readonly AppRecord[]): Promise<void> {
  if (apps.length === 0) return;
  await storeCall("sync apps", async () => {
    const em = db.em();
    await em.upsertMany(
      LarkAppSchema,
      apps.map((a) => ({
        appId: a.appId,
        name: a.name,
        domain: a.domain,
        flow: a.flow === "device" ? "DEVICE" : "REDIRECT",
        updateTime: new Date(),
      })),
      { onConflictFields: ["appId"], onConflictMergeFields: ["name", "domain", "flow", "updateTime"] },
    );
  });
}
