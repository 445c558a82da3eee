import { randomBytes } from 'node:crypto';
import * as official from '@wecom/crypto';
import type { InboundRequest } from '../../src/platforms/_kit/adapter.ts';
import type { FakeResponse, RecordedRequest } from './fake-http.ts';
import { FakePlatformApi, pathOf } from './fake-platform-api.ts';

/** Callback keys for tests; the EncodingAESKey is the official sample's. */
export const WECOM_KEYS = {
  token: 'imgateTestToken',
  encodingAESKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  corpId: 'ww_imgate_test_corp',
};

/**
 * The official sample (https://developer.work.weixin.qq.com/document/path/90968, also in the
 * READMEs of the docs.rs `wechat-crypto` and npm `we-crypto` packages): a URL check whose echostr decrypts to `message` for `corpId` (the
 * receiveid). Its timestamp is from 2014: a channel taking it needs the timestamp window off.
 */
export const WECOM_VECTOR = {
  token: 'QDG6eK',
  encodingAESKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  timestamp: '1409659589',
  nonce: '263014780',
  echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
  signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
  message: '1616140317555161061',
  corpId: 'wx5823bf96d3bd56c7',
};

/** The vector's URL-check query, with its echostr as is (a literal `+`) unless given another spelling of it. */
export function wecomVectorQuery(echostr: string = WECOM_VECTOR.echostr): string {
  return `msg_signature=${WECOM_VECTOR.signature}&timestamp=${WECOM_VECTOR.timestamp}&nonce=${WECOM_VECTOR.nonce}&echostr=${echostr}`;
}

/** The PNG signature and some filler: enough for an upload to be named `image.png`. */
export const FAKE_PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('fake png body')]);

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

/** An inbound request as the callback route hands it to a WeCom adapter: an empty text/xml POST unless overridden. */
export function wecomRequest(overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    query: {},
    rawQuery: '',
    pathToken: undefined,
    rawBody: Buffer.alloc(0),
    receivedAt: new Date(),
    ...overrides,
  };
}

/** A decrypted callback encrypted and signed by the official `@wecom/crypto`, as an inbound POST. */
export function wecomPost(innerXml: string, options: Parameters<typeof wecomCallback>[1] = {}): InboundRequest {
  const callback = wecomCallback(innerXml, options);
  return wecomRequest({ rawQuery: callback.query, rawBody: Buffer.from(callback.body, 'utf8') });
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
export class FakeWecomApi extends FakePlatformApi {
  gettokenCalls = 0;
  /** Tokens that answer errcode 42001 on any API call. */
  readonly expiredTokens = new Set<string>();

  constructor(private readonly expiresIn = 7200) {
    super();
  }

  protected answer(request: RecordedRequest): FakeResponse {
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

/** The `media` file of a recorded multipart `media/upload` request. */
export async function uploadedMedia(request: RecordedRequest): Promise<File> {
  const form = await new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
  return form.get('media') as File;
}


export function tokenOf(request: RecordedRequest): string | null {
  return new URL(request.url, 'http://fake').searchParams.get('access_token');
}

export { pathOf } from './fake-platform-api.ts';
