import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { feishu, lark, type FeishuChannelConfig } from '../../../src/platforms/feishu/index.ts';
import type { FakeResponse, RecordedRequest } from '../../helpers/fake-http.ts';
import { FakePlatformApi, pathOf } from '../../helpers/fake-platform-api.ts';
import { inboundPost } from '../../helpers/callback-outcome.ts';

/** An app's keys for tests. */
export const FEISHU_KEYS = {
  appId: 'cli_imgate0test0001',
  appSecret: 'feishu-test-app-secret-0123456789',
  encryptKey: 'feishu-test-encrypt-key-abcdef',
  verificationToken: 'feishu-test-verification-token',
};

/** An App ID of the shape Feishu issues (`cli_` and 16 hex digits), which websocket mode requires. */
export const WS_APP_ID = 'cli_a1b2c3d4e5f60718';

export const BOT_OPEN_ID = 'ou_bot00000000000000000000000000001';
export const USER_OPEN_ID = 'ou_user0000000000000000000000000001';
export const CHAT_ID = 'oc_chat0000000000000000000000000001';

/** A parsed channel config (`feishu` unless `platform: lark`), with the keys above. */
export function feishuChannel(overrides: Record<string, unknown> = {}): FeishuChannelConfig {
  const document = { id: 'feishu', platform: 'feishu', appId: FEISHU_KEYS.appId, appSecret: FEISHU_KEYS.appSecret, ...overrides };
  return document.platform === 'lark' ? lark.configSchema.parse(document) : feishu.configSchema.parse(document);
}

/**
 * AES-256-CBC as Feishu encrypts, written here from the description the SDK's `AESCipher.decrypt`
 * inverts (key = sha256(encryptKey), a random IV prepended, PKCS#7), independently of imgate's
 * `encryptFeishuPayload`: the SDK itself has no encrypt.
 */
export function encryptAsFeishu(encryptKey: string, plaintext: string): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** The signature headers as the SDK's `checkIsEventValidated` computes them (over the compact JSON body). */
export function signatureHeadersFor(body: string, encryptKey: string, timestamp = String(Math.floor(Date.now() / 1000)), nonce = randomBytes(6).toString('hex')) {
  const signature = createHash('sha256').update(timestamp + nonce + encryptKey + body).digest('hex');
  return { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature };
}

let eventCounter = 0;

/** A schema 2.0 envelope around `event`. */
export function envelope<E extends Record<string, unknown>>(eventType: string, event: E, header: Record<string, unknown> = {}) {
  eventCounter += 1;
  return {
    schema: '2.0',
    header: {
      event_id: `evt-${Date.now()}-${eventCounter}-${randomBytes(4).toString('hex')}`,
      event_type: eventType,
      create_time: String(Date.now()),
      token: FEISHU_KEYS.verificationToken,
      app_id: FEISHU_KEYS.appId,
      tenant_key: 'tenant-test',
      ...header,
    },
    event,
  };
}

export interface MessageOptions {
  messageType?: string;
  content?: unknown;
  chatType?: string;
  chatId?: string;
  messageId?: string;
  mentions?: unknown[];
  sender?: Record<string, unknown>;
  senderType?: string;
  parentId?: string;
  rootId?: string;
  createTime?: string;
}

/** An `im.message.receive_v1` event (a group text message from USER_OPEN_ID unless told otherwise). */
export function messageEvent(options: MessageOptions = {}, header: Record<string, unknown> = {}) {
  const message: Record<string, unknown> = {
    message_id: options.messageId ?? `om_${randomBytes(12).toString('hex')}`,
    create_time: options.createTime ?? '1764000000123',
    chat_id: options.chatId ?? CHAT_ID,
    chat_type: options.chatType ?? 'group',
    message_type: options.messageType ?? 'text',
    content: typeof options.content === 'string' ? options.content : JSON.stringify(options.content ?? { text: 'hello' }),
  };
  if (options.mentions) message.mentions = options.mentions;
  if (options.parentId) message.parent_id = options.parentId;
  if (options.rootId) message.root_id = options.rootId;
  return envelope(
    'im.message.receive_v1',
    {
      sender: {
        sender_id: options.sender ?? { open_id: USER_OPEN_ID, union_id: 'on_user1', user_id: 'user1' },
        sender_type: options.senderType ?? 'user',
        tenant_key: 'tenant-test',
      },
      message,
    },
    header,
  );
}

export function mention(index: number, openId: string, name: string, userId?: string) {
  return { key: `@_user_${index}`, id: { open_id: openId, union_id: `on_${index}`, ...(userId === undefined ? {} : { user_id: userId }) }, name, tenant_key: 'tenant-test' };
}

export interface PostedCallback {
  body: string;
  headers: Record<string, string>;
}

/**
 * A callback body and headers as Feishu posts it: encrypted (by `encryptAsFeishu`) and signed
 * when an encryptKey is given, plain otherwise.
 */
export function feishuCallback(payload: unknown, options: { encryptKey?: string; sign?: boolean; timestamp?: string } = {}): PostedCallback {
  const plain = JSON.stringify(payload);
  if (!options.encryptKey) return { body: plain, headers: { 'content-type': 'application/json' } };
  const body = JSON.stringify({ encrypt: encryptAsFeishu(options.encryptKey, plain) });
  const signed = options.sign === false ? {} : signatureHeadersFor(body, options.encryptKey, options.timestamp);
  return { body, headers: { 'content-type': 'application/json', ...signed } };
}

/** An inbound request as `/hooks/:id` hands it to the adapter. */
export function feishuRequest(callback: PostedCallback, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return inboundPost(callback.body, callback.headers, overrides);
}

/**
 * A fake Feishu API on 127.0.0.1: `tenant_access_token/internal` hands out numbered tokens
 * (`t-1`, `t-2`, …) and counts its calls per app_id; a token in `invalidTokens` gets 99991663 on
 * any other call; `bot/v3/info` answers BOT_OPEN_ID; messages and replies answer numbered
 * message ids; images answer an image_key. `route` overrides any path.
 */
export class FakeFeishuApi extends FakePlatformApi {
  readonly invalidTokens = new Set<string>();
  private tokenCount = 0;
  private messageCount = 0;

  constructor() {
    super();
  }

  /** Forgets requests and starts numbering tokens and messages from 1 again. */
  reset(): void {
    this.server.requests.length = 0;
    this.invalidTokens.clear();
    this.tokenCount = 0;
    this.messageCount = 0;
  }

  /** Token fetches for one app. */
  tokenFetches(appId: string = FEISHU_KEYS.appId): number {
    return this.requestsTo('/open-apis/auth/v3/tenant_access_token/internal').filter((request) => jsonOf(request).app_id === appId).length;
  }

  protected answer(request: RecordedRequest): FakeResponse {
    const path = pathOf(request);
    const handler = this.routes.get(path);
    // Paths outside Feishu's API (a tokenUrl service) answer from their route alone.
    if (handler && !path.startsWith('/open-apis/')) return handler(request);
    if (path === '/open-apis/auth/v3/tenant_access_token/internal') {
      if (handler) return handler(request);
      this.tokenCount += 1;
      return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: `t-${this.tokenCount}`, expire: 7200 } };
    }
    const token = bearerOf(request);
    if (token === null || this.invalidTokens.has(token)) {
      return { status: 400, body: { code: 99991663, msg: 'Invalid access token for authorization. Please make a request with token attached.' } };
    }
    if (handler) return handler(request);
    if (path === '/open-apis/bot/v3/info') return { status: 200, body: { code: 0, msg: 'ok', bot: { activate_status: 2, app_name: 'imgate', open_id: BOT_OPEN_ID } } };
    if (path === '/open-apis/im/v1/images') return { status: 200, body: { code: 0, msg: 'success', data: { image_key: 'img_v3_test_key' } } };
    if (path === '/open-apis/im/v1/messages' || /^\/open-apis\/im\/v1\/messages\/[^/]+\/reply$/.test(path)) {
      this.messageCount += 1;
      return { status: 200, body: { code: 0, msg: 'success', data: { message_id: `om_sent_${this.messageCount}`, msg_type: jsonOf(request).msg_type } } };
    }
    return { status: 404, body: { code: 404, msg: 'not found' } };
  }
}


export function jsonOf(request: RecordedRequest): any {
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch {
    return {};
  }
}

export function bearerOf(request: RecordedRequest): string | null {
  const value = request.headers.authorization;
  return typeof value === 'string' && value.startsWith('Bearer ') ? value.slice('Bearer '.length) : null;
}

/** The `image` file and `image_type` of a recorded multipart upload. */
export async function uploadedImage(request: RecordedRequest): Promise<{ imageType: string | null; file: File }> {
  const form = await new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
  return { imageType: form.get('image_type') as string | null, file: form.get('image') as File };
}

export { pathOf } from '../../helpers/fake-platform-api.ts';
