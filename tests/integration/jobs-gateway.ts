// A test-only stand-in for src/lark's gateway: the real node-sdk (messages) and plain HTTP (device
// authorization) against the real emulator, with errors classified the way the design's LarkError
// is (terminal or transient). Replace with the real LarkGateway once src/lark lands.
import * as lark from "@larksuiteoapi/node-sdk";
import type { RunningEmulator } from "../../src/emulator/index.js";
import type { JobsGateway } from "../../src/jobs/card-work.js";
import type { DevicePollGateway, DevicePollResult } from "../../src/jobs/device-poller.js";
import { MapCache, silentLogger } from "../conformance/emulator-support.js";

/** The LarkError shape the jobs rely on. */
export class TestLarkError extends Error {
  constructor(
    readonly code: number,
    readonly kind: "terminal" | "transient",
  ) {
    super(`lark error ${code}`);
  }
}

const TRANSIENT_CODES = new Set([99991400, 230020, 20050, 20072]);

function classify(err: unknown): TestLarkError {
  const res = (err as { response?: { status?: number; data?: { code?: number } } }).response;
  const code = res?.data?.code ?? -1;
  const transient = !res || (res.status ?? 500) >= 500 || res.status === 429 || TRANSIENT_CODES.has(code);
  return new TestLarkError(code, transient ? "transient" : "terminal");
}

export function testGateway(
  emulator: RunningEmulator,
  secrets: Map<string, string>,
): JobsGateway & DevicePollGateway {
  const clients = new Map<string, lark.Client>();
  const client = (appId: string) => {
    let c = clients.get(appId);
    if (!c) {
      const appSecret = secrets.get(appId) as string;
      c = new lark.Client({
        appId,
        appSecret,
        domain: emulator.url,
        cache: new MapCache(),
        logger: silentLogger,
      });
      clients.set(appId, c);
    }
    return c;
  };
  return {
    async sendCard(appId, receiver, card, uuid) {
      const res = await client(appId)
        .im.v1.message.create({
          params: { receive_id_type: receiver.type },
          data: { receive_id: receiver.id, msg_type: "interactive", content: JSON.stringify(card), uuid },
        })
        .catch((err: unknown) => {
          throw classify(err);
        });
      if (res.code !== 0 || !res.data?.message_id) throw new TestLarkError(res.code ?? -1, "terminal");
      return { messageId: res.data.message_id, chatId: res.data.chat_id };
    },
    async updateCard(appId, messageId, card) {
      const res = await client(appId)
        .im.v1.message.patch({ path: { message_id: messageId }, data: { content: JSON.stringify(card) } })
        .catch((err: unknown) => {
          throw classify(err);
        });
      if (res.code !== 0) throw new TestLarkError(res.code ?? -1, "terminal");
    },
    async startDeviceAuthorization(appId, scopes) {
      const basic = Buffer.from(`${appId}:${secrets.get(appId)}`).toString("base64");
      const res = await fetch(`${emulator.url}/oauth/v1/device_authorization`, {
        method: "POST",
        headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: appId, scope: scopes.join(" ") }).toString(),
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new TestLarkError(res.status, res.status >= 500 ? "transient" : "terminal");
      return {
        deviceCode: body.device_code as string,
        verificationUriComplete: body.verification_uri_complete as string,
        expiresIn: body.expires_in as number,
        interval: body.interval as number,
      };
    },
    async pollDeviceToken(appId, deviceCode) {
      const res = await fetch(`${emulator.url}/open-apis/authen/v2/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          client_id: appId,
          client_secret: secrets.get(appId),
          device_code: deviceCode,
        }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (res.ok && body.access_token) return { kind: "tokens", tokens: body };
      const kinds: Record<string, DevicePollResult["kind"]> = {
        authorization_pending: "pending",
        slow_down: "slow_down",
        access_denied: "denied",
        expired_token: "expired",
      };
      const kind = kinds[String(body.error)];
      if (kind && kind !== "tokens") return { kind } as DevicePollResult;
      throw new TestLarkError(Number(body.code ?? res.status), res.status >= 500 ? "transient" : "terminal");
    },
  };
}
