/**
 * The frames of Feishu's long connection (the SDK's `pbbp2.Frame`, protobuf), written here from
 * the field table rather than taken from the SDK, so the fake server and the SDK in the gateway
 * check each other:
 *
 * | # | field | type |
 * |---|---|---|
 * | 1 | SeqID | uint64 (required) |
 * | 2 | LogID | uint64 (required) |
 * | 3 | service | int32 (required) |
 * | 4 | method | int32 (required): 0 control (ping/pong), 1 data (events) |
 * | 5 | headers | repeated Header {1 key: string, 2 value: string} |
 * | 6 | payloadEncoding | string |
 * | 7 | payloadType | string |
 * | 8 | payload | bytes |
 * | 9 | LogIDNew | string |
 */
export interface Frame {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: Record<string, string>;
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Buffer;
  LogIDNew?: string;
}

export const FRAME_CONTROL = 0;
export const FRAME_DATA = 1;

const VARINT = 0;
const LENGTH_DELIMITED = 2;

export function encodeFrame(frame: Frame): Buffer {
  const parts: Buffer[] = [
    varintField(1, frame.SeqID),
    varintField(2, frame.LogID),
    varintField(3, frame.service),
    varintField(4, frame.method),
  ];
  for (const [key, value] of Object.entries(frame.headers)) {
    parts.push(bytesField(5, Buffer.concat([bytesField(1, Buffer.from(key)), bytesField(2, Buffer.from(value))])));
  }
  if (frame.payloadEncoding !== undefined) parts.push(bytesField(6, Buffer.from(frame.payloadEncoding)));
  if (frame.payloadType !== undefined) parts.push(bytesField(7, Buffer.from(frame.payloadType)));
  if (frame.payload !== undefined) parts.push(bytesField(8, frame.payload));
  if (frame.LogIDNew !== undefined) parts.push(bytesField(9, Buffer.from(frame.LogIDNew)));
  return Buffer.concat(parts);
}

export function decodeFrame(bytes: Buffer): Frame {
  const frame: Frame = { SeqID: 0, LogID: 0, service: 0, method: 0, headers: {} };
  for (const { field, value } of readFields(bytes)) {
    if (field === 1) frame.SeqID = value as number;
    else if (field === 2) frame.LogID = value as number;
    else if (field === 3) frame.service = value as number;
    else if (field === 4) frame.method = value as number;
    else if (field === 5) {
      const header = new Map(readFields(value as Buffer).map((entry) => [entry.field, (entry.value as Buffer).toString('utf8')]));
      frame.headers[header.get(1) ?? ''] = header.get(2) ?? '';
    } else if (field === 6) frame.payloadEncoding = (value as Buffer).toString('utf8');
    else if (field === 7) frame.payloadType = (value as Buffer).toString('utf8');
    else if (field === 8) frame.payload = value as Buffer;
    else if (field === 9) frame.LogIDNew = (value as Buffer).toString('utf8');
  }
  return frame;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function varintField(field: number, value: number): Buffer {
  return Buffer.concat([varint((field << 3) | VARINT), varint(value)]);
}

function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | LENGTH_DELIMITED), varint(value.length), value]);
}

function readFields(bytes: Buffer): { field: number; value: number | Buffer }[] {
  const fields: { field: number; value: number | Buffer }[] = [];
  let at = 0;
  const readVarint = (): number => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at++];
      if (byte === undefined) throw new Error('truncated varint');
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  };
  while (at < bytes.length) {
    const tag = readVarint();
    const wireType = tag & 7;
    if (wireType === VARINT) fields.push({ field: tag >>> 3, value: readVarint() });
    else if (wireType === LENGTH_DELIMITED) {
      const length = readVarint();
      fields.push({ field: tag >>> 3, value: bytes.subarray(at, at + length) });
      at += length;
    } else throw new Error(`wire type ${wireType} is not in a Frame`);
  }
  return fields;
}
