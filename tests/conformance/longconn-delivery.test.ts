// The real node-sdk WSClient receives events and card callbacks from the hub and its answers come
// back through the ACK: round trip, fragmented payloads, redelivery on a slow or failing handler.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cardActionEvent,
  messageEvent,
  newAppId,
  startClient,
  startHub,
  waitFor,
} from "./longconn-harness.js";

type Data = Record<string, unknown>;

describe("long connection delivery to the node-sdk WSClient", () => {
  const appId = newAppId();
  const seen: Data[] = [];
  let behaviour: (data: Data) => unknown = () => undefined;
  let env: Awaited<ReturnType<typeof startHub>>;
  let sdk: ReturnType<typeof startClient>;

  beforeAll(async () => {
    env = await startHub({ ackTimeoutMs: 500, maxAttempts: 3, fragmentThreshold: 512 });
    const handler = (data: Data) => {
      seen.push(data);
      return behaviour(data);
    };
    sdk = startClient(env.domain, {
      appId,
      handlers: { "card.action.trigger": handler, "im.message.receive_v1": handler },
    });
    await waitFor(() => sdk.events.ready === 1, 5000, "WSClient ready");
  });

  afterAll(async () => {
    sdk.close();
    await env.close();
    // No frame the hub sent may have been rejected by the SDK's decoder or fragment merger.
    expect(sdk.errors.filter((e) => !e.includes("invoke event failed"))).toEqual([]);
  });

  it("carries a card callback's toast and card update back in the ACK", async () => {
    const answer = {
      toast: { type: "success", content: "Authorized" },
      card: { type: "raw", data: { schema: "2.0", body: { elements: [] } } },
    };
    behaviour = () => answer;
    seen.length = 0;
    const event = cardActionEvent(appId, { action: "auth_done", state: "s1" });
    const result = await env.hub.deliver(appId, event);
    expect(result).toEqual({ acked: true, response: answer, attempts: 1 });
    // The SDK flattens {schema, ...header, ...event}: token is the card update token.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      event_type: "card.action.trigger",
      event_id: event.header.event_id,
      token: event.event.token,
      action: { value: { action: "auth_done", state: "s1" }, tag: "button" },
      operator: { open_id: "ou_test" },
    });
  });

  it("acks a handler without a return value with no response", async () => {
    behaviour = () => undefined;
    const result = await env.hub.deliver(appId, messageEvent(appId, "hello"));
    expect(result).toEqual({ acked: true, attempts: 1 });
  });

  it("returns the SDK's 'no handler' answer for an unregistered event type", async () => {
    const event = { ...messageEvent(appId, "x") };
    event.header = { ...event.header, event_type: "contact.user.created_v3" };
    const result = await env.hub.deliver(appId, event);
    expect(result).toEqual({ acked: true, response: "no contact.user.created_v3 event handle", attempts: 1 });
  });

  it("splits a large payload across frames that the SDK merges back", async () => {
    behaviour = (data) => ({
      length: (JSON.parse(String(messageOf(data).content)) as { text: string }).text.length,
    });
    seen.length = 0;
    // Multi-byte characters make fragment boundaries fall inside a character: the SDK must merge bytes.
    const text = "长连接-fragment-✓-".repeat(2000);
    const result = await env.hub.deliver(appId, messageEvent(appId, text));
    expect(result).toEqual({ acked: true, response: { length: text.length }, attempts: 1 });
    expect(JSON.parse(String(messageOf(seen[0] ?? {}).content))).toEqual({ text });
  });

  it("pushes the same message again when the ACK is late (slow handler)", async () => {
    seen.length = 0;
    behaviour = async () => {
      if (seen.length === 1) await new Promise((r) => setTimeout(r, 1200));
      return { call: seen.length };
    };
    const event = messageEvent(appId, "slow");
    const result = await env.hub.deliver(appId, event);
    expect(result).toEqual({ acked: true, response: { call: 2 }, attempts: 2 });
    expect(seen.map((d) => d.event_id)).toEqual([event.header.event_id, event.header.event_id]);
    await new Promise((r) => setTimeout(r, 900)); // let the first, slow invocation finish
  });

  it("treats the SDK's {code:500} ACK of a throwing handler as a failure and pushes again", async () => {
    seen.length = 0;
    behaviour = () => {
      if (seen.length === 1) throw new Error("boom");
      return { ok: true };
    };
    const result = await env.hub.deliver(appId, messageEvent(appId, "flaky"));
    expect(result).toEqual({ acked: true, response: { ok: true }, attempts: 2 });
    expect(seen).toHaveLength(2);
  });

  it("gives up after the bounded number of attempts when the handler keeps failing", async () => {
    seen.length = 0;
    behaviour = () => {
      throw new Error("always");
    };
    const result = await env.hub.deliver(appId, messageEvent(appId, "doomed"));
    expect(result).toEqual({ acked: false, attempts: 3 });
    expect(seen).toHaveLength(3);
  });

  it("reports an undelivered event for an app without connections", async () => {
    const started = Date.now();
    const result = await env.hub.deliver(newAppId(), messageEvent(appId, "nobody"));
    expect(result).toEqual({ acked: false, attempts: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});

function messageOf(data: Data): Data {
  return (data.message ?? {}) as Data;
}
