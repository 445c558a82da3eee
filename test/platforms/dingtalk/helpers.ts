import { createHmac } from 'node:crypto';
import type { NormalizedEvent, UnifiedEvent } from '../../../src/core/event.ts';
import type { ChannelAdapter, InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { createDingtalkAdapter, dingtalk, type DingtalkChannelConfig } from '../../../src/platforms/dingtalk/index.ts';
import { testAdapterDeps, type TestAdapterDeps } from '../../helpers/adapter-deps.ts';
import type { FakeResponse, RecordedRequest } from '../../helpers/fake-http.ts';
import { FakePlatformApi, pathOf } from '../../helpers/fake-platform-api.ts';
import { inboundPost, onlyEvent, storedEvent } from '../../helpers/callback-outcome.ts';

export const APP_KEY = 'dingimgatetestappkey01';
export const APP_SECRET = 'dt-app-secret-NEVER-LOGGED-0123456789abcdefghijklmnopqrstuvwxyz';
export const BOT_ID = '$:LWCP_v1:$RobotImgate0000000000';
export const GROUP_ID = 'cidImgateTestGroup+AbCdEf==';
export const SINGLE_CHAT_ID = 'cidImgateTestSingle+XyZ==';
export const SESSION = 'SESSION-TOKEN-never-logged-7f3a';

/**
 * The sign as DingTalk's docs define it (机器人接收消息, "sign的计算方法"), computed here with
 * node:crypto, independently of src/platforms/dingtalk/verify.ts.
 */
export function independentSign(timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

export function channel(overrides: Record<string, unknown> = {}): DingtalkChannelConfig {
  return dingtalk.configSchema.parse({ id: 'ding', platform: 'dingtalk', appKey: APP_KEY, appSecret: APP_SECRET, ...overrides });
}

export function adapterFor(config: DingtalkChannelConfig, deps: TestAdapterDeps = testAdapterDeps(), now?: () => number): ChannelAdapter {
  return createDingtalkAdapter(config, deps, now);
}

export interface BodyOptions {
  msgId?: string;
  group?: boolean;
  text?: string;
  sessionWebhook?: string;
  expiresAt?: number;
  createAt?: number;
  senderStaffId?: string | null;
  extra?: Record<string, unknown>;
}

/** A callback body shaped like DingTalk's documented example (机器人接收消息, HTTP BODY). */
export function callbackBody(options: BodyOptions = {}): Record<string, unknown> {
  const group = options.group ?? true;
  const createAt = options.createAt ?? Date.now();
  const body: Record<string, unknown> = {
    conversationId: group ? GROUP_ID : SINGLE_CHAT_ID,
    atUsers: group ? [{ dingtalkId: BOT_ID }, { dingtalkId: '$:LWCP_v1:$LisiDingId', staffId: 'lisi' }] : [],
    chatbotCorpId: 'dinge8a565imgate',
    chatbotUserId: BOT_ID,
    msgId: options.msgId ?? 'msg0AbCdEfGhIjKl==',
    senderNick: '张三',
    isAdmin: true,
    senderStaffId: 'zhangsan',
    sessionWebhookExpiredTime: options.expiresAt ?? createAt + 5_400_060,
    createAt,
    senderCorpId: 'dinge8a565imgate',
    conversationType: group ? '2' : '1',
    senderId: '$:LWCP_v1:$ZhangsanDingId',
    isInAtList: group,
    sessionWebhook: options.sessionWebhook ?? `https://oapi.dingtalk.com/robot/sendBySession?session=${SESSION}`,
    text: { content: options.text ?? (group ? ' what is the build status? @lisi' : 'hello robot') },
    msgtype: 'text',
    robotCode: APP_KEY,
    ...(group ? { conversationTitle: '机器人测试-TEST' } : {}),
    ...options.extra,
  };
  if (options.senderStaffId === null) delete body.senderStaffId;
  else if (options.senderStaffId !== undefined) body.senderStaffId = options.senderStaffId;
  return body;
}

export function signedHeaders(options: { timestamp?: number | string; secret?: string } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Date.now());
  return { 'content-type': 'application/json; charset=utf-8', timestamp, sign: independentSign(timestamp, options.secret ?? APP_SECRET) };
}

export function request(body: unknown, overrides: Partial<InboundRequest> & { timestamp?: number | string; secret?: string } = {}): InboundRequest {
  const { timestamp, secret, ...rest } = overrides;
  return inboundPost(typeof body === 'string' ? body : JSON.stringify(body), signedHeaders({ timestamp, secret }), rest);
}


export const stored = (event: NormalizedEvent, channelId = 'ding'): UnifiedEvent => storedEvent(event, channelId, 'dingtalk');

/**
 * DingTalk's API host on loopback: `/v1.0/oauth2/accessToken` hands out `dt-token-<n>`; the robot
 * APIs check the `x-acs-dingtalk-access-token` header and answer a revoked or unknown token as
 * DingTalk does (HTTP 400, `InvalidAuthentication`); `/robot/sendBySession` is a session webhook.
 */
export class FakeDingtalkApi extends FakePlatformApi {
  tokenCalls = 0;
  readonly issued = new Set<string>();
  readonly revoked = new Set<string>();
  private sent = 0;

  constructor() {
    super();
  }

  protected answer(request: RecordedRequest): FakeResponse {
    const path = pathOf(request);
    if (path === '/v1.0/oauth2/accessToken') {
      const body = bodyOf(request);
      if (body.appKey !== APP_KEY || body.appSecret !== APP_SECRET) {
        return { status: 400, body: { code: 'invalidClientSecret', message: '应用的appSecret不正确', requestid: 'req-secret' } };
      }
      this.tokenCalls += 1;
      const token = `dt-token-${this.tokenCalls}`;
      this.issued.add(token);
      return { status: 200, body: { accessToken: token, expireIn: 7200 } };
    }
    const handler = this.routes.get(path);
    // Stream mode asks for its connection with the app's own credentials, not an access token.
    if (path === '/v1.0/gateway/connections/open' && handler) return handler(request);
    if (path.startsWith('/v1.0/')) {
      const token = request.headers['x-acs-dingtalk-access-token'];
      if (typeof token !== 'string' || !this.issued.has(token) || this.revoked.has(token)) {
        return { status: 400, body: { code: 'InvalidAuthentication', requestid: 'req-token', message: '不合法的access_token' } };
      }
      if (handler) return handler(request);
      this.sent += 1;
      return { status: 200, body: { processQueryKey: `pqk-${this.sent}`, invalidStaffIdList: [], flowControlledStaffIdList: [] } };
    }
    if (handler) return handler(request);
    if (path === '/robot/sendBySession') return { status: 200, body: { errcode: 0, errmsg: 'ok' } };
    return { status: 404, body: { code: 'NotFound' } };
  }
}


export function bodyOf(request: RecordedRequest): any {
  return JSON.parse(request.body.toString('utf8'));
}

export { pathOf } from '../../helpers/fake-platform-api.ts';

export { onlyEvent };
