import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { NormalizedEvent, UnifiedEvent } from '../../../src/core/event.ts';
import type { AdapterDeps, ChannelAdapter, InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { createQqAdapter, qq, type QqChannelConfig } from '../../../src/platforms/qq/index.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import type { FakeResponse, RecordedRequest } from '../../helpers/fake-http.ts';
import { FakePlatformApi, pathOf } from '../../helpers/fake-platform-api.ts';
import { inboundPost, onlyEvent, storedEvent } from '../../helpers/callback-outcome.ts';

export const APP_ID = '102000001';
export const SECRET = 'qqTestSecretNEVERlogged0123456789';
export const USER_OPENID = 'E4F4AEA33253A2797FB897C50B81D7ED';
export const MEMBER_OPENID = '7B0F6C1E2D3A4B5C6D7E8F9012345678';
export const GROUP_OPENID = 'C9F778FE6ADF9D1D1DBE395BF744A33A';
export const GUILD_ID = '18700000000001';
export const CHANNEL_ID = '100010';
export const DM_GUILD_ID = '9876543210123';
export const BOT_USER_ID = '6158788878435714165';
/** Where the fake QQ serves getAppAccessToken: a path of its own, so that only `tokenBase` reaches it. */
export const TOKEN_PREFIX = '/token-host';

/**
 * The bot's Ed25519 private key as QQ's sign.md derives it, written here independently of
 * src/platforms/qq/signature.ts: QQ's Go sample doubles the secret until it has 32 bytes and cuts.
 */
export function independentKey(secret: string): KeyObject {
  let seed = secret;
  while (seed.length < 32) seed = seed + seed;
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed.slice(0, 32), 'latin1')]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The raw 32 public key bytes of that key. */
export function independentPublicKey(secret: string): Buffer {
  const jwk = createPublicKey(independentKey(secret)).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
}

export function independentSignature(secret: string, message: string | Buffer): string {
  return sign(null, Buffer.isBuffer(message) ? message : Buffer.from(message, 'utf8'), independentKey(secret)).toString('hex');
}

/** The headers QQ sends with a dispatch, signed over timestamp ‖ body. */
export function signedHeaders(body: string, options: { timestamp?: string; secret?: string } = {}): Record<string, string> {
  const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
  return {
    'content-type': 'application/json',
    'user-agent': 'QQBot-Callback',
    'x-bot-appid': APP_ID,
    'x-signature-method': 'Ed25519',
    'x-signature-timestamp': timestamp,
    'x-signature-ed25519': independentSignature(options.secret ?? SECRET, timestamp + body),
  };
}

export function channel(overrides: Record<string, unknown> = {}): QqChannelConfig {
  return qq.configSchema.parse({ id: 'qq', platform: 'qq', appId: APP_ID, secret: SECRET, ...overrides });
}

/** A QQ adapter over test deps (counters in memory; the store's are tested in test/store and the integration test). */
export function adapterFor(config: QqChannelConfig, deps: AdapterDeps = testAdapterDeps(), now?: () => number): ChannelAdapter {
  return createQqAdapter(config, deps, now);
}

let sequence = 0;
function nextId(prefix: string): string {
  sequence += 1;
  return `${prefix}${Date.now().toString(36)}${sequence}`;
}

export type MessageEventType = 'C2C_MESSAGE_CREATE' | 'GROUP_AT_MESSAGE_CREATE' | 'AT_MESSAGE_CREATE' | 'DIRECT_MESSAGE_CREATE';

/** An op 0 dispatch of a message event, shaped like event.md's examples. */
export function dispatch(eventType: MessageEventType, d: Record<string, unknown> = {}): Record<string, unknown> {
  const timestamp = new Date().toISOString();
  const base: Record<string, Record<string, unknown>> = {
    C2C_MESSAGE_CREATE: { author: { user_openid: USER_OPENID }, content: 'hello bot', timestamp },
    GROUP_AT_MESSAGE_CREATE: { author: { member_openid: MEMBER_OPENID }, content: ' 123', group_openid: GROUP_OPENID, timestamp },
    AT_MESSAGE_CREATE: {
      author: { avatar: 'http://thirdqq.qlogo.cn/0', bot: false, id: '1234', username: 'abc' },
      channel_id: CHANNEL_ID,
      guild_id: GUILD_ID,
      content: `<@!${BOT_USER_ID}> ndnnd`,
      member: { joined_at: '2021-04-12T16:34:42+08:00', roles: ['1'] },
      mentions: [{ id: BOT_USER_ID, username: 'imgate-bot', bot: true }],
      timestamp,
      seq: 101,
    },
    DIRECT_MESSAGE_CREATE: {
      author: { avatar: 'http://thirdqq.qlogo.cn/0', bot: false, id: '1234', username: 'abc' },
      channel_id: '100011',
      guild_id: DM_GUILD_ID,
      src_guild_id: GUILD_ID,
      content: 'ndnnd',
      timestamp,
    },
  };
  return { op: 0, id: `${eventType}:${nextId('e')}`, t: eventType, d: { id: nextId('ROBOT1.0_'), ...base[eventType], ...d } };
}

export function request(body: unknown, overrides: Partial<InboundRequest> & { timestamp?: string; secret?: string; unsigned?: boolean } = {}): InboundRequest {
  const { timestamp, secret, unsigned, ...rest } = overrides;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return inboundPost(text, unsigned ? { 'content-type': 'application/json' } : signedHeaders(text, { timestamp, secret }), rest);
}


export const stored = (event: NormalizedEvent): UnifiedEvent => storedEvent(event, 'qq', 'qq');

/**
 * QQ's two hosts on loopback: `{TOKEN_PREFIX}/app/getAppAccessToken` hands out `qq-token-<n>` (with
 * `expires_in` as a string, as QQ's example has it); the message and file APIs check
 * `Authorization: QQBot <token>` and answer a revoked or unknown one with HTTP 401 and code 11243.
 */
export class FakeQqApi extends FakePlatformApi {
  tokenCalls = 0;
  readonly issued = new Set<string>();
  readonly revoked = new Set<string>();
  private sent = 0;

  protected answer(request: RecordedRequest): FakeResponse {
    const path = pathOf(request);
    if (path === `${TOKEN_PREFIX}/app/getAppAccessToken`) {
      const body = bodyOf(request);
      if (body.appId !== APP_ID || body.clientSecret !== SECRET) return { status: 200, body: { code: 100016, message: 'invalid appid or secret' } };
      this.tokenCalls += 1;
      const token = `qq-token-${this.tokenCalls}`;
      this.issued.add(token);
      return { status: 200, body: { access_token: token, expires_in: '7200' } };
    }
    const authorization = String(request.headers.authorization ?? '');
    const token = authorization.startsWith('QQBot ') ? authorization.slice('QQBot '.length) : '';
    if (!this.issued.has(token) || this.revoked.has(token)) {
      return { status: 401, body: { message: 'token not pass', code: 11243, err_code: 11243, trace_id: 'trace-token' } };
    }
    const handler = this.routes.get(path);
    if (handler) return handler(request);
    if (/^\/v2\/(users|groups)\/[^/]+\/files$/.test(path)) {
      return { status: 200, body: { file_uuid: 'uuid-1', file_info: `file-info-for-${bodyOf(request).url}`, ttl: 3600 } };
    }
    if (/^\/(v2\/(users|groups)|channels|dms)\/[^/]+\/messages$/.test(path)) {
      this.sent += 1;
      return { status: 200, body: { id: `qq-msg-${this.sent}`, timestamp: Math.floor(Date.now() / 1000) } };
    }
    return { status: 404, body: { code: 404, message: 'not found' } };
  }
}

export function bodyOf(request: RecordedRequest): any {
  return JSON.parse(request.body.toString('utf8'));
}

export { pathOf } from '../../helpers/fake-platform-api.ts';

export { onlyEvent };
