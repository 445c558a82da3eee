import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** The answer is held back until this settles. */
  wait?: Promise<void>;
}

/**
 * A small HTTP server on 127.0.0.1 that records every request and answers from a script: queued
 * responses first, then the default. Stands in for subscribers and platform APIs in tests.
 */
export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queued: FakeResponse[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private defaultResponse: (request: RecordedRequest) => FakeResponse = () => ({ status: 200, body: { ok: true } })) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', async () => {
        const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
        this.requests.push(recorded);
        const response = this.queued.shift() ?? this.defaultResponse(recorded);
        this.waiters = this.waiters.filter((w) => {
          if (this.requests.length >= w.count) w.resolve();
          return this.requests.length < w.count;
        });
        await response.wait;
        const body = response.body === undefined ? '' : typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
        res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Answers the next requests with these, in order. */
  respondWith(...responses: FakeResponse[]): void {
    this.queued.push(...responses);
  }

  setDefault(response: (request: RecordedRequest) => FakeResponse): void {
    this.defaultResponse = response;
  }

  /** Resolves when `count` requests in all have arrived; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${count} requests, got ${this.requests.length}`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
