import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { verifyKey } from 'discord-interactions';
import type { FakeResponse, RecordedRequest } from './fake-http.ts';
import { FakePlatformApi, pathOf } from './fake-platform-api.ts';

export const BOT_TOKEN = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.fake.bot-token-NEVER-LOGGED';
export const BOT_USER_ID = '1000000000000000001';
export const APPLICATION_ID = '1000000000000000001';
export const GUILD_ID = '1000000000000000100';
export const GUILD_CHANNEL = '1000000000000000200';
export const DM_CHANNEL = '1000000000000000300';
export const ALICE = { id: '1000000000000000011', username: 'alice', global_name: 'Alice' };
export const BOB = { id: '1000000000000000012', username: 'bob', global_name: null };

/** The REST API's version prefix under the channel's `apiBase` (`<fake>/api`). */
export const API = '/api/v10';

/** An Ed25519 key pair standing in for an application's (Discord keeps the private half; tests make their own). */
export interface TestKeyPair {
  publicKeyHex: string;
  privateKeyHex: string;
  privateKey: KeyObject;
}

export function testKeyPair(): TestKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    // The raw 32 bytes follow the 12-byte SPKI and 16-byte PKCS#8 headers of an Ed25519 key.
    publicKeyHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex'),
    privateKeyHex: privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16).toString('hex'),
    privateKey,
  };
}

/** Headers of an interaction as Discord signs it: Ed25519 over timestamp + body, with node:crypto. */
export function signedInteractionHeaders(keys: TestKeyPair, body: string, timestamp = String(Math.floor(Date.now() / 1000))): Record<string, string> {
  const signature = sign(null, Buffer.from(timestamp + body, 'utf8'), keys.privateKey).toString('hex');
  return { 'content-type': 'application/json', 'x-signature-ed25519': signature, 'x-signature-timestamp': timestamp };
}

/** Whether `discord-interactions`' verifyKey (Discord's own package) accepts these headers: proof that the test signs as Discord does. */
export function officiallyValid(keys: TestKeyPair, body: string, headers: Record<string, string>): Promise<boolean> {
  return verifyKey(body, headers['x-signature-ed25519'] ?? '', headers['x-signature-timestamp'] ?? '', keys.publicKeyHex);
}

/** A MESSAGE_CREATE's data as Discord sends it (https://discord.com/developers/docs/resources/message). */
export function messageData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '1300000000000000001',
    channel_id: GUILD_CHANNEL,
    guild_id: GUILD_ID,
    author: ALICE,
    member: { nick: null, roles: [] },
    content: 'hello',
    timestamp: '2026-11-23T09:00:00.000000+00:00',
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    pinned: false,
    type: 0,
    ...overrides,
  };
}

/** An APPLICATION_COMMAND interaction in a guild channel, as posted to the Interactions Endpoint URL. */
export function commandInteraction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '1300000000000000900',
    application_id: APPLICATION_ID,
    type: 2,
    data: { id: '1300000000000000800', name: 'deploy', type: 1, options: [{ name: 'env', type: 3, value: 'prod' }] },
    guild_id: GUILD_ID,
    channel_id: GUILD_CHANNEL,
    channel: { id: GUILD_CHANNEL, type: 0, name: 'general' },
    member: { user: ALICE, nick: 'Ally', roles: [] },
    token: 'INTERACTION-TOKEN-never-logged-aW50ZXJhY3Rpb24',
    version: 1,
    locale: 'en-US',
    ...overrides,
  };
}

/**
 * Discord's REST API on 127.0.0.1, under `/api/v10`: `GET /gateway/bot` names the fake Gateway;
 * `POST /channels/:id/messages` (bot token required) and `POST /webhooks/:app/:token` (no token:
 * the interaction token authorizes) answer a message with a fresh id and the `X-RateLimit-*`
 * headers of a bucket with room. A test overrides a path with `route`, e.g. with a 429.
 */
export class FakeDiscordApi extends FakePlatformApi {
  gatewayUrl = '';
  private messages = 0;
  private readonly once = new Map<string, FakeResponse>();

  /** Answers the next request to `path` with `response`, and the ones after as usual. */
  respondOnce(path: string, response: FakeResponse): void {
    this.once.set(path, response);
  }

  protected answer(request: RecordedRequest): FakeResponse {
    const path = pathOf(request);
    const once = this.once.get(path);
    if (once) {
      this.once.delete(path);
      return once;
    }
    const handler = this.routes.get(path);
    if (handler) return handler(request);
    if (path.startsWith(`${API}/webhooks/`) && request.method === 'POST') return this.created(request, path.split('/')[5] ?? '');
    if (request.headers.authorization !== `Bot ${BOT_TOKEN}`) return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
    if (path === `${API}/gateway/bot`) {
      return {
        status: 200,
        body: { url: this.gatewayUrl, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } },
      };
    }
    const channel = /^\/api\/v10\/channels\/(\d+)\/messages$/.exec(path);
    if (channel && request.method === 'POST') return this.created(request, channel[1] ?? '');
    return { status: 404, body: { message: '404: Not Found', code: 0 } };
  }

  /** A created message, with a bucket that has room left. */
  private created(request: RecordedRequest, channelId: string): FakeResponse {
    this.messages += 1;
    return {
      status: 200,
      headers: rateLimitHeaders({ remaining: 4, resetAfter: 1 }),
      body: { id: String(1_400_000_000_000_000_000n + BigInt(this.messages)), channel_id: channelId, type: 0, content: contentOf(request) },
    };
  }
}

/** The `X-RateLimit-*` headers Discord sends with every answer of a limited route. */
export function rateLimitHeaders(options: { remaining: number; resetAfter: number; bucket?: string }): Record<string, string> {
  return {
    'x-ratelimit-limit': '5',
    'x-ratelimit-remaining': String(options.remaining),
    'x-ratelimit-reset': String(Date.now() / 1000 + options.resetAfter),
    'x-ratelimit-reset-after': String(options.resetAfter),
    'x-ratelimit-bucket': options.bucket ?? 'fake-bucket-messages',
  };
}

/** A 429 as Discord answers one: `Retry-After` in whole seconds, `retry_after` exact in the body. */
export function tooManyRequests(retryAfterSeconds: number): FakeResponse {
  return {
    status: 429,
    headers: { ...rateLimitHeaders({ remaining: 0, resetAfter: retryAfterSeconds }), 'retry-after': String(Math.ceil(retryAfterSeconds)), 'x-ratelimit-scope': 'user' },
    body: { message: 'You are being rate limited.', retry_after: retryAfterSeconds, global: false },
  };
}

/** The JSON body of a request, or the `payload_json` part of a multipart one. */
export async function jsonOf(request: RecordedRequest): Promise<any> {
  const type = String(request.headers['content-type'] ?? '');
  if (!type.startsWith('multipart/form-data')) return JSON.parse(request.body.toString('utf8'));
  const form = await new Response(request.body, { headers: { 'content-type': type } }).formData();
  return JSON.parse(String(form.get('payload_json')));
}

function contentOf(request: RecordedRequest): string | null {
  try {
    const body = JSON.parse(request.body.toString('utf8')) as { content?: unknown };
    return typeof body.content === 'string' ? body.content : null;
  } catch {
    return null;
  }
}

export { pathOf } from './fake-platform-api.ts';

/** A snowflake made now (Discord's epoch in the top bits), as a fresh interaction's id is. */
export function snowflakeNow(offset = 0): string {
  return String(((BigInt(Date.now()) - 1_420_070_400_000n) << 22n) + BigInt(offset));
}
