import { describe, expect, it } from "vitest";
import { requestFromQuery } from "../../src/events/wire.js";

const query = (q: string) => requestFromQuery(new URLSearchParams(q));

describe("the events WebSocket's query string", () => {
  it("reads every filter by its protobuf JSON name", () => {
    const req = query("app_id=cli_a&open_id=ou_1&types=AUTHORIZED,DECLINED&after_event_id=42");
    expect(req.appId).toBe("cli_a");
    expect(req.user?.id).toEqual({ case: "openId", value: "ou_1" });
    expect(req.types).toHaveLength(2);
    expect(req.afterEventId).toBe("42");
    expect(query("from_oldest=true").fromOldest).toBe(true);
    expect(query("from_oldest=0").fromOldest).toBe(false);
  });

  it("lets types repeat, nothing else", () => {
    expect(query("types=AUTHORIZED&types=DECLINED").types).toHaveLength(2);
    expect(() => query("open_id=ou_a&user_id=b")).toThrow(/one of open_id, user_id, union_id/);
    expect(() => query("open_id=ou_a&open_id=ou_b")).toThrow(/one of open_id/);
    expect(() => query("after_event_id=1&after_event_id=2")).toThrow(/after_event_id given twice/);
  });

  it("refuses a from_oldest that is not a boolean instead of reading it as false", () => {
    expect(() => query("from_oldest=yes")).toThrow(/from_oldest must be true or false/);
  });

  it("refuses unknown parameters", () => {
    expect(() => query("appid=x")).toThrow(/unknown query parameter appid/);
  });
});
