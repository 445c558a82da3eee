import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** A frame the gateway sent up the stream: an ack of a callback or the echo of a ping. */
export interface UpstreamFrame {
  code: number;
  headers: Record<string, string>;
  message: string;
  data: string;
}

/**
 * DingTalk's Stream gateway on loopback, as the `dingtalk-stream` SDK talks to it (open-dingtalk/dingtalk-stream-sdk-nodejs):
 * tickets are issued by the connections/open answer (`issueTicket`), a WebSocket with an unknown
 * ticket is refused, and a CALLBACK frame stays "unacknowledged" until a frame answers its
 * messageId; `repushUnacked` sends those again, as DingTalk does on a new connection.
 */
export class FakeDingtalkStream {
  private readonly server = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (info: { req: IncomingMessage }) => this.admits(info.req.url ?? '') });
  private readonly tickets = new Set<string>();
  readonly sockets: WebSocket[] = [];
  readonly received: UpstreamFrame[] = [];
  /** Callback frames pushed and not yet acknowledged, by messageId. */
  readonly unacked = new Map<string, string>();
  /** Close codes of connections the gateway closed. */
  readonly closeCodes: number[] = [];

  constructor() {
    this.server.on('connection', (socket) => {
      this.sockets.push(socket);
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as UpstreamFrame;
        this.received.push(frame);
        if (frame.headers.messageId) this.unacked.delete(frame.headers.messageId);
      });
      socket.on('close', (code) => this.closeCodes.push(code));
    });
  }

  async start(): Promise<this> {
    if (this.server.address() === null) await new Promise((resolve) => this.server.once('listening', resolve));
    return this;
  }

  get endpoint(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/connect`;
  }

  /** The connection the gateway holds now (the newest open one). */
  get current(): WebSocket | undefined {
    return this.sockets.filter((socket) => socket.readyState === socket.OPEN).at(-1);
  }

  issueTicket(): string {
    const ticket = `ticket-${randomUUID()}`;
    this.tickets.add(ticket);
    return ticket;
  }

  /** Pushes a robot message as DingTalk does; answers the frame's messageId. */
  pushCallback(body: unknown, messageId = `msg-frame-${randomUUID()}`): string {
    const frame = JSON.stringify({
      specVersion: '1.0',
      type: 'CALLBACK',
      headers: { appId: 'app', connectionId: 'conn', contentType: 'application/json', messageId, time: String(Date.now()), topic: '/v1.0/im/bot/messages/get' },
      data: typeof body === 'string' ? body : JSON.stringify(body),
    });
    this.unacked.set(messageId, frame);
    this.send(frame);
    return messageId;
  }

  pushSystem(topic: string, data: string): string {
    const messageId = `sys-${randomUUID()}`;
    this.send(JSON.stringify({ specVersion: '1.0', type: 'SYSTEM', headers: { contentType: 'application/json', messageId, time: String(Date.now()), topic }, data }));
    return messageId;
  }

  repushUnacked(): void {
    for (const frame of this.unacked.values()) this.send(frame);
  }

  /** Drops the current connection without a closing handshake, as a network failure would. */
  drop(): void {
    this.current?.terminate();
  }

  acksOf(messageId: string): UpstreamFrame[] {
    return this.received.filter((frame) => frame.headers.messageId === messageId);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(frame: string): void {
    const socket = this.current;
    if (!socket) throw new Error('the gateway holds no stream connection');
    socket.send(frame);
  }

  private admits(url: string): boolean {
    const ticket = new URL(url, 'ws://fake').searchParams.get('ticket');
    return ticket !== null && this.tickets.delete(ticket);
  }
}
