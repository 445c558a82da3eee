import { randomBytes } from 'node:crypto';
import * as official from '@wecom/crypto';
import { FakeHttpServer, type FakeResponse, type RecordedRequest } from './fake-http.ts';

/** Callback keys for tests; the EncodingAESKey is the official sample's. */
export const WECOM_KEYS = {
  token: 'imgateTestToken',
  encodingAESKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  corpId: 'ww_imgate_test_corp',
};

export interface WecomCallbackRequest {
  /** Query string without `?`: msg_signature, timestamp, nonce (URL-encoded). */
  query: string;
  body: string;
}

/**
 * A callback as WeCom sends it, encrypted and signed with the official `@wecom/crypto` package (not
 * with imgate's own code), so that tests check imgate against an implementation we did not write.
 */
export function wecomCallback(
  innerXml: string,
  options: { token?: string; encodingAESKey?: string; receiveId?: string; timestamp?: number } = {},
): WecomCallbackRequest {
  const token = options.token ?? WECOM_KEYS.token;
  const encrypt = official.encrypt(options.encodingAESKey ?? WECOM_KEYS.encodingAESKey, innerXml, options.receiveId ?? WECOM_KEYS.corpId);
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = randomBytes(6).toString('hex');
  const signature = official.getSignature(token, timestamp, nonce, encrypt);
  return {
    query: new URLSearchParams({ msg_signature: signature, timestamp, nonce }).toString(),
    body: `<xml><ToUserName><![CDATA[${WECOM_KEYS.corpId}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
  };
}

/** A `GET` URL check: the query with an encrypted `echostr` (percent-encoded) and its signature. */
export function wecomUrlCheck(echo: string, options: { receiveId?: string } = {}): string {
  const echostr = official.encrypt(WECOM_KEYS.encodingAESKey, echo, options.receiveId ?? WECOM_KEYS.corpId);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(6).toString('hex');
  const signature = official.getSignature(WECOM_KEYS.token, timestamp, nonce, echostr);
  return new URLSearchParams({ msg_signature: signature, timestamp, nonce, echostr }).toString();
}

/** Decrypts what imgate encrypted (passive replies), with the official package. */
export function decryptWithOfficial(encrypt: string): { message: string; id: string } {
  const { message, id } = official.decrypt(WECOM_KEYS.encodingAESKey, encrypt);
  return { message, id };
}

/**
 * A fake WeCom API on 127.0.0.1: `gettoken` hands out numbered tokens (`token-1`, `token-2`, …) and
 * counts its calls; other paths answer from `routes` (path → handler), else `{errcode: 0}`.
 * A route handler may look at `tokenOf(request)` to answer 42001 for a token it wants expired.
 */
export class FakeWecomApi {
  readonly server: FakeHttpServer;
  gettokenCalls = 0;
  /** Tokens that answer errcode 42001 on any API call. */
  readonly expiredTokens = new Set<string>();
  private readonly routes = new Map<string, (request: RecordedRequest) => FakeResponse>();

  constructor(private readonly expiresIn = 7200) {
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

  route(path: string, handler: (request: RecordedRequest) => FakeResponse): void {
    this.routes.set(path, handler);
  }

  /** Requests to `path` (query string ignored), in arrival order. */
  requestsTo(path: string): RecordedRequest[] {
    return this.server.requests.filter((request) => pathOf(request) === path);
  }

  private answer(request: RecordedRequest): FakeResponse {
    const path = pathOf(request);
    if (path === '/cgi-bin/gettoken') {
      this.gettokenCalls += 1;
      return { status: 200, body: { errcode: 0, errmsg: 'ok', access_token: `token-${this.gettokenCalls}`, expires_in: this.expiresIn } };
    }
    const token = tokenOf(request);
    if (token !== null && this.expiredTokens.has(token)) {
      return { status: 200, body: { errcode: 42001, errmsg: 'access_token expired' } };
    }
    const handler = this.routes.get(path);
    return handler ? handler(request) : { status: 200, body: { errcode: 0, errmsg: 'ok' } };
  }
}

export function pathOf(request: RecordedRequest): string {
  return new URL(request.url, 'http://fake').pathname;
}

export function tokenOf(request: RecordedRequest): string | null {
  return new URL(request.url, 'http://fake').searchParams.get('access_token');
}
