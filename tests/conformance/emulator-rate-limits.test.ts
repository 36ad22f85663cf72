// The documented rate limits: 5 messages per second per user (230020) and the per-app budget of the
// token endpoint (99991400, HTTP 429, x-ogw-ratelimit-* headers).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { appWithUser, post, sdkClient, startTestEmulator } from "./emulator-support.js";

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.close());

const card = (title: string) => ({
  schema: "2.0",
  header: { title: { tag: "plain_text", content: title } },
  body: { elements: [] },
});

describe("rate limits", () => {
  it("limits messages to 5 per second per user with 230020", async () => {
    const { app, user } = appWithUser(emulator);
    const client = sdkClient(emulator, app);
    const send = () =>
      client.im.v1.message.create({
        params: { receive_id_type: "open_id" },
        data: { receive_id: user.open_id, msg_type: "interactive", content: JSON.stringify(card("burst")) },
      });
    await client.tokenManager.getTenantAccessToken();
    const results = await Promise.allSettled(Array.from({ length: 12 }, send));
    const limited = results.filter((r) => r.status === "rejected");
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(limited[0]).toMatchObject({ reason: { response: { status: 400, data: { code: 230020 } } } });
  });

  it("answers 99991400 with HTTP 429 and x-ogw-ratelimit headers past the per-app limit", async () => {
    const { app } = appWithUser(emulator);
    emulator.configure({ rate_limit_per_second: 3 });
    try {
      const url = `${emulator.url}/open-apis/authen/v2/oauth/token`;
      const body = {
        grant_type: "refresh_token",
        client_id: app.app_id,
        client_secret: app.app_secret,
        refresh_token: "x",
      };
      const answers = await Promise.all(Array.from({ length: 8 }, () => post(url, body)));
      const limited = answers.filter((a) => a.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(2);
      expect(limited[0]?.body).toMatchObject({ code: 99991400, msg: "request trigger frequency limit" });
      expect(limited[0]?.headers.get("x-ogw-ratelimit-limit")).toBe("3");
      expect(Number(limited[0]?.headers.get("x-ogw-ratelimit-reset"))).toBeGreaterThanOrEqual(1);
    } finally {
      emulator.configure({ rate_limit_per_second: 50 });
    }
  });
});
