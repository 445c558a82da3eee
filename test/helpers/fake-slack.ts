import type { FakeResponse, RecordedRequest } from './fake-http.ts';
import { FakePlatformApi, pathOf } from './fake-platform-api.ts';

/**
 * Slack's Web API on loopback (`{apiBase}/api/<method>`): `chat.postMessage` answers `{ok, channel,
 * ts}` with a fresh ts when the bot token is the expected one, `invalid_auth` otherwise; other
 * methods answer what a test routes to them (`apps.connections.open` in Socket Mode tests).
 */
export class FakeSlackApi extends FakePlatformApi {
  private posted = 0;
  /** The ts of every message posted, in order. */
  readonly postedTs: string[] = [];

  constructor(private readonly botToken: string) {
    super();
  }

  /** The JSON bodies of the chat.postMessage calls, in arrival order. */
  posts(): Record<string, unknown>[] {
    return this.requestsTo('/api/chat.postMessage').map((request) => JSON.parse(request.body.toString('utf8')) as Record<string, unknown>);
  }

  protected answer(request: RecordedRequest): FakeResponse {
    const path = pathOf(request);
    const routed = this.routes.get(path);
    if (routed) return routed(request);
    if (path === '/api/chat.postMessage') {
      if (request.headers.authorization !== `Bearer ${this.botToken}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
      const body = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
      this.posted += 1;
      const ts = `1700000000.${String(this.posted).padStart(6, '0')}`;
      this.postedTs.push(ts);
      return { status: 200, body: { ok: true, channel: body.channel, ts, message: { type: 'message', text: body.text, ts } } };
    }
    return { status: 200, body: { ok: false, error: 'unknown_method' } };
  }
}
