import { randomBytes } from 'node:crypto';
import { WECOM_API_BASE } from '../_kit/wecom-api.ts';
import { decodeEncodingAESKey, encryptWecomMessage, wecomSignature } from '../_kit/wecom-crypto.ts';
import type { WecomRobotChannelConfig } from './config.ts';

export interface WecomRobotSampleOptions {
  text?: string;
  now?: Date;
}

export interface WecomRobotSample {
  /** `/hooks/<id>?msg_signature=…&timestamp=…&nonce=…` */
  path: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

const SAMPLE_CHAT = 'wrkSFfCgAAimgateSampleChat0001';
const SAMPLE_USER = 'imgate-sample-user';
/** A robot's webhook key when the channel has none: replies to the sample then fail at WeCom, visibly. */
const SAMPLE_KEY = '00000000-0000-0000-0000-000000000000';

/**
 * A robot callback as WeCom sends it — a group text message that @-mentions the robot, encrypted
 * with the channel's EncodingAESKey (receiveid empty, as for every robot) and signed with its
 * Token — for `imgate simulate wecom-robot` and tests. Its WebhookUrl is the channel's own webhook,
 * so a bot that replies to the sample posts to the real group.
 */
export function buildWecomRobotSample(config: WecomRobotChannelConfig, options: WecomRobotSampleOptions = {}): WecomRobotSample {
  if (!config.token || !config.encodingAESKey) {
    throw new Error(`channel "${config.id}" has no token and encodingAESKey: it takes no callbacks to simulate`);
  }
  const now = options.now ?? new Date();
  const text = options.text ?? 'hello from imgate simulate';
  const base = (config.apiBase ?? WECOM_API_BASE).replace(/\/+$/, '');
  const webhookUrl = `${base}/cgi-bin/webhook/send?key=${encodeURIComponent(config.webhookKey ?? SAMPLE_KEY)}`;
  const xml = [
    '<xml>',
    `<WebhookUrl><![CDATA[${webhookUrl}]]></WebhookUrl>`,
    `<MsgId><![CDATA[${randomBytes(18).toString('base64url')}]]></MsgId>`,
    `<ChatId><![CDATA[${SAMPLE_CHAT}]]></ChatId>`,
    '<ChatType>group</ChatType>',
    `<From><UserId><![CDATA[${SAMPLE_USER}]]></UserId><Name><![CDATA[Sample User]]></Name><Alias><![CDATA[sample]]></Alias></From>`,
    `<GetChatInfoUrl><![CDATA[${base}/cgi-bin/webhook/get_chat_info?code=imgate-sample]]></GetChatInfoUrl>`,
    '<MsgType>text</MsgType>',
    `<Text><Content><![CDATA[@imgate ${cdata(text)}]]></Content></Text>`,
    '</xml>',
  ].join('');
  const encrypt = encryptWecomMessage(decodeEncodingAESKey(config.encodingAESKey), xml, '');
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const nonce = randomBytes(6).toString('hex');
  const query = new URLSearchParams({ msg_signature: wecomSignature(config.token, timestamp, nonce, encrypt), timestamp, nonce });
  return {
    path: `/hooks/${encodeURIComponent(config.id)}?${query.toString()}`,
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
  };
}

/** `]]>` would end the CDATA section early: split it across two sections. */
function cdata(text: string): string {
  return text.split(']]>').join(']]]]><![CDATA[>');
}
