import type { DevicePoll, DeviceWorkStore } from "../domain/jobs.js";
import type { Database } from "./database.js";
import { storeCall } from "./store-errors.js";

/** Opens a sealed secret with the AAD it was sealed with (src/crypto/seal.ts fits). */
export interface Opener {
  open(sealed: string, aad: string): string;
}

interface PollRow {
  id: string;
  app_id: string;
  device_code_sealed: Uint8Array | null;
  device_interval_seconds: number | null;
}

/** Used when a row has no interval yet (RFC 8628's default). */
const DEFAULT_INTERVAL_SECONDS = 5;

/**
 * The DeviceWorkStore port: a claim moves `device_next_poll_time` ahead by the lease in one
 * `update ... (select ... for update skip locked) returning`, so replicas poll different sessions.
 * The device code is opened here and handed to the poller only.
 */
export function createDeviceWorkStore(db: Database, opener: Opener): DeviceWorkStore {
  return {
    claimDuePolls: (now, leaseMs, limit) =>
      storeCall("claim device polls", async () => {
        const rows = await db.em().execute<PollRow[]>(
          `update auth_session set device_next_poll_time = ? where id in (select id from auth_session
           where state = 'PENDING' and flow = 'DEVICE' and device_next_poll_time <= ?
           order by device_next_poll_time limit ? for update skip locked)
           returning id, app_id, device_code_sealed, device_interval_seconds`,
          [new Date(now.getTime() + leaseMs), now, limit],
        );
        return rows.flatMap((r): DevicePoll[] => {
          if (!r.device_code_sealed) return [];
          const sealed = Buffer.from(r.device_code_sealed).toString();
          return [
            {
              sessionId: r.id,
              appId: r.app_id,
              deviceCode: opener.open(sealed, `session:${r.id}:device_code`),
              intervalSeconds: r.device_interval_seconds ?? DEFAULT_INTERVAL_SECONDS,
            },
          ];
        });
      }),
    schedulePoll: (sessionId, at, intervalSeconds) =>
      storeCall("schedule device poll", async () => {
        await db
          .em()
          .execute(
            "update auth_session set device_next_poll_time = ?, device_interval_seconds = ? where id = ?",
            [at, intervalSeconds, sessionId],
          );
      }),
  };
}
