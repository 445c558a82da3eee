import type WebSocket from 'ws';

/** A WebSocket message's bytes, whichever of its shapes `ws` handed over. */
export function wsMessageBytes(data: WebSocket.RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
}
