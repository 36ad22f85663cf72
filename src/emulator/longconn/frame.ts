// Hand-written codec for the long connection's `pbbp2.Frame` (proto2). The SDK decodes with
// protobufjs and throws on a missing required field, so fields 1-4 and each header's key/value are
// always written, zeros included: a proto3-style encoder that skips defaults breaks the client.

export type FrameHeader = { key: string; value: string };

export type Frame = {
  seqId: bigint;
  logId: bigint;
  service: number;
  method: number;
  headers: FrameHeader[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  logIdNew?: string;
};

/** `method` values: control frames carry ping/pong, data frames carry events and their ACKs. */
export const FrameMethod = { control: 0, data: 1 } as const;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const MASK64 = (1n << 64n) - 1n;

class Writer {
  private readonly parts: Uint8Array[] = [];

  varint(value: bigint): this {
    // Negative int32s are sign-extended to 64 bits, as protobuf does (10-byte varint).
    let v = value & MASK64;
    const out: number[] = [];
    while (v > 0x7fn) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.parts.push(Uint8Array.from(out));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(BigInt((field << 3) | wire));
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint(BigInt(data.length));
    this.parts.push(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

function encodeHeader(header: FrameHeader): Uint8Array {
  return new Writer().string(1, header.key).string(2, header.value).finish();
}

export function encodeFrame(frame: Frame): Uint8Array {
  const w = new Writer()
    .tag(1, WIRE_VARINT)
    .varint(frame.seqId)
    .tag(2, WIRE_VARINT)
    .varint(frame.logId)
    .tag(3, WIRE_VARINT)
    .varint(BigInt(frame.service))
    .tag(4, WIRE_VARINT)
    .varint(BigInt(frame.method));
  for (const h of frame.headers) w.bytes(5, encodeHeader(h));
  if (frame.payloadEncoding !== undefined) w.string(6, frame.payloadEncoding);
  if (frame.payloadType !== undefined) w.string(7, frame.payloadType);
  if (frame.payload !== undefined) w.bytes(8, frame.payload);
  if (frame.logIdNew !== undefined) w.string(9, frame.logIdNew);
  return w.finish();
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new Error("truncated varint");
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result & MASK64;
    }
    throw new Error("varint too long");
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new Error("truncated length-delimited field");
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return new TextDecoder().decode(this.bytes());
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.bytes();
    else if (wire === WIRE_FIXED64) this.pos += 8;
    else if (wire === WIRE_FIXED32) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

/** int32 on the wire is a 64-bit two's complement varint; fold it back to a JS number. */
function toInt32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

function decodeHeader(buf: Uint8Array): FrameHeader {
  const r = new Reader(buf);
  let key: string | undefined;
  let value: string | undefined;
  while (!r.done) {
    const tag = Number(r.varint());
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_LEN) key = r.string();
    else if (tag >>> 3 === 2 && (tag & 7) === WIRE_LEN) value = r.string();
    else r.skip(tag & 7);
  }
  if (key === undefined || value === undefined) throw new Error("header missing required key/value");
  return { key, value };
}

/** Decodes a frame with the same strictness as the SDK: required fields 1-4 must be present. */
export function decodeFrame(buf: Uint8Array): Frame {
  const r = new Reader(buf);
  const seen = new Set<number>();
  const frame: Frame = { seqId: 0n, logId: 0n, service: 0, method: 0, headers: [] };
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    seen.add(field);
    if (field === 1 && wire === WIRE_VARINT) frame.seqId = r.varint();
    else if (field === 2 && wire === WIRE_VARINT) frame.logId = r.varint();
    else if (field === 3 && wire === WIRE_VARINT) frame.service = toInt32(r.varint());
    else if (field === 4 && wire === WIRE_VARINT) frame.method = toInt32(r.varint());
    else if (field === 5 && wire === WIRE_LEN) frame.headers.push(decodeHeader(r.bytes()));
    else if (field === 6 && wire === WIRE_LEN) frame.payloadEncoding = r.string();
    else if (field === 7 && wire === WIRE_LEN) frame.payloadType = r.string();
    else if (field === 8 && wire === WIRE_LEN) frame.payload = r.bytes();
    else if (field === 9 && wire === WIRE_LEN) frame.logIdNew = r.string();
    else r.skip(wire);
  }
  for (const f of [1, 2, 3, 4]) if (!seen.has(f)) throw new Error(`frame missing required field ${f}`);
  return frame;
}

/** Header lookup; the SDK keeps the last value for a repeated key, so do the same. */
export function headerValue(frame: Frame, key: string): string | undefined {
  let value: string | undefined;
  for (const h of frame.headers) if (h.key === key) value = h.value;
  return value;
}
