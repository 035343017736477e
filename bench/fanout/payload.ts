// Benchmark payload: the sender's clock, a sequence number and the row it belongs to, padded
// to the requested size. Sender and receivers run in one process, so one clock serves both.
//
//   f64 sendTimeNs | u32 seq | u32 rowTag | u8 phase | padding (zeros)

export const HEADER_BYTES = 17;

/** What a message is for; subscribers count only `measure` messages towards the result. */
export const Phase = { warmup: 0, measure: 1, fill: 2 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

const origin = process.hrtime.bigint();

/** Monotonic nanoseconds since this module loaded (exact in a double for ~100 days). */
export function nowNs(): number {
  return Number(process.hrtime.bigint() - origin);
}

export interface PayloadHeader {
  sendTimeNs: number;
  seq: number;
  rowTag: number;
  phase: number;
}

/** Writes the header into `buf` (which the caller reuses; adapters copy it onto the wire). */
export function writeHeader(buf: Buffer, seq: number, rowTag: number, phase: Phase): void {
  buf.writeDoubleBE(nowNs(), 0);
  buf.writeUInt32BE(seq >>> 0, 8);
  buf.writeUInt32BE(rowTag >>> 0, 12);
  buf.writeUInt8(phase, 16);
}

export function makePayloadBuffer(size: number): Buffer {
  if (!Number.isInteger(size) || size < HEADER_BYTES) {
    throw new RangeError(`payload size must be an integer >= ${HEADER_BYTES} bytes, got ${size}`);
  }
  return Buffer.alloc(size);
}
