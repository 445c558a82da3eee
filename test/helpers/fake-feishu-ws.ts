import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeResponse, RecordedRequest } from './fake-http.ts';
import { FRAME_CONTROL, FRAME_DATA, decodeFrame, encodeFrame, type Frame } from './fake-feishu-frame.ts';

/** Where the SDK asks for a connection: `POST {domain}/callback/ws/endpoint`. */
export const WS_ENDPOINT_PATH = '/callback/ws/endpoint';
/** The service id the fake puts in its URLs; the SDK's pings carry it back. */
export const WS_SERVICE_ID = 7;

/** The gateway's answer to a pushed event: its frame, the `{code}` payload, and the connection it came on. */
export interface WsAck {
  messageId: string;
  code: number;
  headers: Record<string, string>;
  connection: number;
}

/** What Feishu tells a client about pings and reconnects (seconds), in the endpoint answer and in pongs. */
export interface WsClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

/**
 * Feishu's long connection on 127.0.0.1, as the official SDK's WSClient talks to it:
 *
 * - `endpoint` answers `POST /callback/ws/endpoint` (route it on a FakeFeishuApi): `{AppID,
 *   AppSecret}` → a WebSocket URL with a one-time ticket and an access key, and `clientConfig`;
 *   wrong credentials get code 514, and `refusal` (while set) is answered instead;
 * - the WebSocket takes only URLs with an unused ticket, answers ping frames with pong frames
 *   carrying `clientConfig`, and records the gateway's answers to pushed events;
 * - `push` sends an event as data frames (split into `parts` when asked); it stays unacknowledged
 *   until an answer with code 200 comes, and `repushUnacked` sends those again, as Feishu does.
 */
export class FakeFeishuLongConnection {
  private readonly server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info: { req: IncomingMessage }) => this.admits(info.req.url ?? ''),
  });
  private readonly tickets = new Set<string>();
  private seq = 0;
  /** Every ticket and access key handed out, to check none reaches a log. */
  readonly credentialsIssued: string[] = [];
  readonly sockets: WebSocket[] = [];
  readonly pings: Frame[] = [];
  readonly acks: WsAck[] = [];
  /** Pushed events without a code-200 answer yet, by frame message_id. */
  readonly unacked = new Map<string, unknown>();
  readonly closeCodes: number[] = [];
  /** Runs as each answer is read, before anything else can happen. */
  onAck: ((ack: WsAck) => void) | null = null;
  refusal: { code: number; msg: string } | null = null;
  clientConfig: WsClientConfig = { PingInterval: 120, ReconnectCount: -1, ReconnectInterval: 0.05, ReconnectNonce: 0 };

  constructor(private readonly app: { appId: string; appSecret: string }) {
    this.server.on('connection', (socket) => {
      const connection = this.sockets.push(socket) - 1;
      socket.on('message', (data: Buffer) => this.receive(socket, connection, decodeFrame(data)));
      socket.on('close', (code) => this.closeCodes.push(code));
    });
  }

  async start(): Promise<this> {
    if (this.server.address() === null) await new Promise((resolve) => this.server.once('listening', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** The route handler for `/callback/ws/endpoint`. */
  readonly endpoint = (request: RecordedRequest): FakeResponse => {
    const asked = JSON.parse(request.body.toString('utf8')) as { AppID?: string; AppSecret?: string };
    if (asked.AppID !== this.app.appId || asked.AppSecret !== this.app.appSecret) return { status: 200, body: { code: 514, msg: 'auth failed', data: {} } };
    if (this.refusal) return { status: 200, body: { ...this.refusal, data: {} } };
    const ticket = `ticket-${randomUUID()}`;
    const accessKey = `ak-${randomUUID()}`;
    this.tickets.add(ticket);
    this.credentialsIssued.push(ticket, accessKey);
    const port = (this.server.address() as AddressInfo).port;
    const url = `ws://127.0.0.1:${port}/ws/v2?fpid=1&aid=1&device_id=device-1&access_key=${accessKey}&service_id=${WS_SERVICE_ID}&ticket=${ticket}`;
    return { status: 200, body: { code: 0, msg: 'ok', data: { URL: url, ClientConfig: this.clientConfig } } };
  };

  /** The connection the gateway holds now (the newest open one). */
  get current(): WebSocket | undefined {
    return this.sockets.filter((socket) => socket.readyState === socket.OPEN).at(-1);
  }

  /** Pushes an event (its JSON split over `parts` frames); answers the frames' message_id. */
  push(event: unknown, parts = 1): string {
    const socket = this.current;
    if (!socket) throw new Error('no open long connection to push on');
    const messageId = `msg-${randomUUID()}`;
    const bytes = Buffer.from(JSON.stringify(event), 'utf8');
    const size = Math.ceil(bytes.length / parts);
    this.unacked.set(messageId, event);
    for (let part = 0; part < parts; part += 1) {
      this.seq += 1;
      const frame: Frame = {
        SeqID: this.seq,
        LogID: 1_000_000 + this.seq,
        service: WS_SERVICE_ID,
        method: FRAME_DATA,
        headers: { type: 'event', message_id: messageId, sum: String(parts), seq: String(part), trace_id: `trace-${this.seq}` },
        payload: bytes.subarray(part * size, (part + 1) * size),
      };
      socket.send(encodeFrame(frame));
    }
    return messageId;
  }

  /** Pushes every unacknowledged event again, on the current connection; answers their new message_ids. */
  repushUnacked(): string[] {
    const events = [...this.unacked.values()];
    this.unacked.clear();
    return events.map((event) => this.push(event));
  }

  /** Cuts the current connection without a close frame, as a network failure would. */
  drop(): void {
    this.current?.terminate();
  }

  acksOf(messageId: string): WsAck[] {
    return this.acks.filter((ack) => ack.messageId === messageId);
  }

  private admits(url: string): boolean {
    const ticket = new URL(url, 'ws://fake').searchParams.get('ticket') ?? '';
    return this.tickets.delete(ticket);
  }

  private receive(socket: WebSocket, connection: number, frame: Frame): void {
    if (frame.method === FRAME_CONTROL && frame.headers.type === 'ping') {
      this.pings.push(frame);
      const pong: Frame = { ...frame, headers: { type: 'pong' }, payload: Buffer.from(JSON.stringify(this.clientConfig)) };
      socket.send(encodeFrame(pong));
      return;
    }
    if (frame.method !== FRAME_DATA) return;
    const messageId = frame.headers.message_id ?? '';
    const answer = JSON.parse((frame.payload ?? Buffer.from('{}')).toString('utf8')) as { code?: number };
    const ack: WsAck = { messageId, code: Number(answer.code), headers: frame.headers, connection };
    this.acks.push(ack);
    if (ack.code === 200) this.unacked.delete(messageId);
    this.onAck?.(ack);
  }
}
