// The hand-written pbbp2 codec against bytes the SDK is known to produce and require.
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, type Frame, headerValue } from "../../src/emulator/longconn/frame.js";

const ping: Frame = {
  seqId: 0n,
  logId: 0n,
  service: 77,
  method: 0,
  headers: [{ key: "type", value: "ping" }],
};

describe("pbbp2 frame codec", () => {
  it("encodes the SDK's ping byte for byte, zero-valued required fields included", () => {
    const expected = Buffer.concat([
      Buffer.from([0x08, 0x00, 0x10, 0x00, 0x18, 0x4d, 0x20, 0x00, 0x2a, 0x0c, 0x0a, 0x04]),
      Buffer.from("type"),
      Buffer.from([0x12, 0x04]),
      Buffer.from("ping"),
    ]);
    expect(Buffer.from(encodeFrame(ping))).toEqual(expected);
    expect(decodeFrame(expected)).toEqual(ping);
  });

  it("round-trips every field, large ids and negative int32s", () => {
    const frame: Frame = {
      seqId: 2n ** 63n + 5n,
      logId: 7_000_000_000_123n,
      service: -3,
      method: 1,
      headers: [
        { key: "type", value: "event" },
        { key: "empty", value: "" },
      ],
      payloadEncoding: "",
      payloadType: "json",
      payload: new TextEncoder().encode('{"a":"ü"}'),
      logIdNew: "log",
    };
    const decoded = decodeFrame(encodeFrame(frame));
    expect({ ...decoded, payload: Buffer.from(decoded.payload ?? []) }).toEqual({
      ...frame,
      payload: Buffer.from(frame.payload ?? []),
    });
    expect(headerValue(decoded, "empty")).toBe("");
  });

  it("rejects frames missing a required field and skips unknown ones", () => {
    expect(() => decodeFrame(Buffer.from([0x08, 0x00, 0x10, 0x00, 0x18, 0x01]))).toThrow(/field 4/);
    const withUnknown = Buffer.concat([Buffer.from(encodeFrame(ping)), Buffer.from([0x58, 0x05])]);
    expect(decodeFrame(withUnknown)).toEqual(ping);
    const headerWithoutValue = Buffer.from([
      0x08, 0, 0x10, 0, 0x18, 0, 0x20, 0, 0x2a, 0x03, 0x0a, 0x01, 0x61,
    ]);
    expect(() => decodeFrame(headerWithoutValue)).toThrow(/header/);
  });
});
