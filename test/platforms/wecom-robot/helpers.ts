import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { NormalizedEvent } from '../../../src/core/event.ts';
import type { ChannelAdapter, InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { parseXmlSafely } from '../../../src/platforms/_kit/xml.ts';
import type { LimiterClock } from '../../../src/platforms/_kit/send-rate-limiter.ts';
import { createWecomRobotAdapter, wecomRobot, type WecomRobotChannelConfig } from '../../../src/platforms/wecom-robot/index.ts';
import { normalizeRobotMessage } from '../../../src/platforms/wecom-robot/normalize.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { WECOM_KEYS, wecomCallback, type WecomCallbackRequest } from '../../helpers/wecom.ts';
import { onlyEvent } from '../../helpers/callback-outcome.ts';

export const WEBHOOK_KEY = 'a1b2c3d4-robot-key-0000-channelkey01';
export const REPLY_KEY = 'e5f6a7b8-robot-key-1111-callbackkey2';
export const CHAT_ID = 'wrkSFfCgAALFgnrSsWU38puiv4yvExuw';
export const RECEIVED_AT = new Date('2025-11-24T16:00:00.000Z');

export function channel(overrides: Record<string, unknown> = {}): WecomRobotChannelConfig {
  return wecomRobot.configSchema.parse({
    id: 'robot',
    platform: 'wecom-robot',
    webhookKey: WEBHOOK_KEY,
    token: WECOM_KEYS.token,
    encodingAESKey: WECOM_KEYS.encodingAESKey,
    ...overrides,
  });
}

export interface CapturedLogs {
  lines: string[];
}

export function adapterFor(config: WecomRobotChannelConfig, options: { logs?: CapturedLogs; clock?: LimiterClock } = {}): ChannelAdapter {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      options.logs?.lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return createWecomRobotAdapter(config, testAdapterDeps(pino({ level: 'debug' }, stream)), options.clock);
}

export interface RobotXmlOptions {
  msgType?: string;
  chatType?: string;
  chatId?: string | null;
  msgId?: string | null;
  webhookUrl?: string;
  /** The inner part for the message type (`<Text>…</Text>`, `<Image>…</Image>`, …). */
  body?: string;
  from?: { userId: string; name: string; alias: string } | null;
}

/** A decrypted robot callback, shaped like the examples of 群机器人回调说明. */
export function robotXml(options: RobotXmlOptions = {}): string {
  const from = options.from === undefined ? { userId: 'zhangsan', name: '张三', alias: 'jackzhang' } : options.from;
  const webhookUrl = options.webhookUrl ?? `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${REPLY_KEY}`;
  const parts = [
    '<xml>',
    `<WebhookUrl> <![CDATA[${webhookUrl}]]></WebhookUrl>`,
    options.msgId === null ? '' : `<MsgId>${options.msgId ?? 'abcdabcdabcd'}</MsgId>`,
    options.chatId === null ? '' : `<ChatId><![CDATA[${options.chatId ?? CHAT_ID}]]></ChatId>`,
    `<ChatType>${options.chatType ?? 'group'}</ChatType>`,
    from === null
      ? ''
      : `<From><UserId>${from.userId}</UserId><Name><![CDATA[${from.name}]]></Name><Alias><![CDATA[${from.alias}]]></Alias></From>`,
    '<GetChatInfoUrl><![CDATA[https://qyapi.weixin.qq.com/cgi-bin/webhook/get_chat_info?code=CODE]]></GetChatInfoUrl>',
    `<MsgType>${options.msgType ?? 'text'}</MsgType>`,
    options.body ?? '<Text><Content><![CDATA[@RobotA hello robot]]></Content></Text>',
    '</xml>',
  ];
  return parts.join('\n');
}

/** Normalizes decrypted XML directly, as the adapter does after opening the callback. */
export function normalizeXml(xml: string): NormalizedEvent {
  const message = parseXmlSafely(xml).xml as Record<string, unknown>;
  return normalizeRobotMessage(message, { receivedAt: RECEIVED_AT, rawRequest: { contentType: 'text/xml', query: '' } });
}

/** A callback encrypted by the official @wecom/crypto with a robot's empty receiveid. */
export function robotCallback(xml: string, options: { token?: string; timestamp?: number } = {}): WecomCallbackRequest {
  return wecomCallback(xml, { receiveId: '', ...options });
}

export function request(callback: { query: string; body: string }, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    query: Object.fromEntries(new URLSearchParams(callback.query)),
    rawQuery: callback.query,
    pathToken: undefined,
    rawBody: Buffer.from(callback.body, 'utf8'),
    receivedAt: new Date(),
    ...overrides,
  };
}

export { onlyEvent };
