import { FakeHttpServer, type FakeResponse, type RecordedRequest } from './fake-http.ts';

export type RouteHandler = (request: RecordedRequest) => FakeResponse;

/** The path of a recorded request, query string left out. */
export function pathOf(request: RecordedRequest): string {
  return new URL(request.url, 'http://fake').pathname;
}

/**
 * What every fake platform API (WeCom, DingTalk, Feishu …) has in common: a FakeHttpServer on
 * 127.0.0.1, routes a test sets per path, and the requests per path. A subclass answers the rest
 * (token endpoints, send endpoints) in `answer`, looking at `routes` where its platform lets a
 * test override.
 */
export abstract class FakePlatformApi {
  readonly server: FakeHttpServer;
  protected readonly routes = new Map<string, RouteHandler>();

  constructor() {
    this.server = new FakeHttpServer((request) => this.answer(request));
  }

  get url(): string {
    return this.server.url;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /** Answers requests to `path` with `handler`; `null` takes an override away again. */
  route(path: string, handler: RouteHandler | null): void {
    if (handler === null) this.routes.delete(path);
    else this.routes.set(path, handler);
  }

  /** Requests to `path` (query string ignored), in arrival order. */
  requestsTo(path: string): RecordedRequest[] {
    return this.server.requests.filter((request) => pathOf(request) === path);
  }

  protected abstract answer(request: RecordedRequest): FakeResponse;
}
