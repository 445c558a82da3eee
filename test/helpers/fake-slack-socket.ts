import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * Slack's Socket Mode server on loopback (https://api.slack.com/apis/socket-mode): a URL from
 * `issueUrl` (what `apps.connections.open` answers) admits one connection, which is greeted with
 * `hello`; an `events_api` envelope stays unacknowledged until a frame names its envelope_id, and
 * `resendUnacked` sends those again, as Slack does on a new connection.
 */
export class FakeSlackSocket {
  private readonly server = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (info: { req: IncomingMessage }) => this.admits(info.req.url ?? '') });
  private readonly tickets = new Set<string>();
  readonly sockets: WebSocket[] = [];
  /** What the gateway sent, parsed. */
  readonly received: Record<string, unknown>[] = [];
  /** Envelopes sent and not yet acknowledged, by envelope_id. */
  readonly unacked = new Map<string, string>();
  /** Close codes of connections the gateway closed. */
  readonly closeCodes: number[] = [];

  constructor() {
    this.server.on('connection', (socket) => {
      this.sockets.push(socket);
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as Record<string, unknown>;
        this.received.push(frame);
        if (typeof frame.envelope_id === 'string') this.unacked.delete(frame.envelope_id);
      });
      socket.on('close', (code) => this.closeCodes.push(code));
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake-slack', approximate_connection_time: 18060 }, connection_info: { app_id: 'A0TESTAPP' } }));
    });
  }

  async start(): Promise<this> {
    if (this.server.address() === null) await new Promise((resolve) => this.server.once('listening', resolve));
    return this;
  }

  /** A one-time connection URL, with its ticket. */
  issueUrl(): string {
    const ticket = `ticket-${randomUUID()}`;
    this.tickets.add(ticket);
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/link/?ticket=${ticket}&app_id=A0TESTAPP`;
  }

  /** The connection the gateway holds now (the newest open one). */
  get current(): WebSocket | undefined {
    return this.sockets.filter((socket) => socket.readyState === socket.OPEN).at(-1);
  }

  /** Sends an `event_callback` payload in an `events_api` envelope; answers its envelope_id. */
  pushEvent(payload: unknown, envelopeId: string = randomUUID()): string {
    const frame = JSON.stringify({ envelope_id: envelopeId, payload, type: 'events_api', accepts_response_payload: false, retry_attempt: 0, retry_reason: '' });
    this.unacked.set(envelopeId, frame);
    this.send(frame);
    return envelopeId;
  }

  /** Sends any frame as it is. */
  pushRaw(frame: unknown): void {
    this.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Slack's `disconnect` (refresh_requested, warning, link_disabled). */
  disconnect(reason: string): void {
    this.pushRaw({ type: 'disconnect', reason, debug_info: { host: 'fake-slack' } });
  }

  resendUnacked(): void {
    for (const frame of this.unacked.values()) this.send(frame);
  }

  /** Drops the current connection without a closing handshake, as a network failure would. */
  drop(): void {
    this.current?.terminate();
  }

  acksOf(envelopeId: string): Record<string, unknown>[] {
    return this.received.filter((frame) => frame.envelope_id === envelopeId);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(frame: string): void {
    const socket = this.current;
    if (!socket) throw new Error('the gateway holds no Socket Mode connection');
    socket.send(frame);
  }

  private admits(url: string): boolean {
    const ticket = new URL(url, 'ws://fake').searchParams.get('ticket');
    return ticket !== null && this.tickets.delete(ticket);
  }
}
