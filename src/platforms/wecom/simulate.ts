import { randomBytes } from 'node:crypto';
import { decodeEncodingAESKey, encryptWecomMessage, wecomSignature } from '../_kit/wecom-crypto.ts';
import type { WecomChannelConfig } from './config.ts';

export interface WecomSampleOptions {
  text?: string;
  now?: Date;
}

export interface WecomSample {
  /** `/hooks/<id>?msg_signature=…&timestamp=…&nonce=…` */
  path: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

export const SAMPLE_USER = 'imgate-sample-user';
/** Used when the channel has no agentId; WeCom's own samples use 1000002-like ids. */
const SAMPLE_AGENT_ID = 1000002;

/**
 * A text message callback as WeCom sends it for this channel, encrypted with its EncodingAESKey
 * for its CorpID and signed with its Token (PLATFORMS.md §1): for `imgate simulate wecom`, so the
 * whole inbound path can be tried without a WeCom account. Built with imgate's own crypto since it
 * ships in the product; the tests check it against the official `@wecom/crypto`.
 */
export function buildWecomSample(config: WecomChannelConfig, options: WecomSampleOptions = {}): WecomSample {
  const now = options.now ?? new Date();
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const agentId = String(config.agentId ?? SAMPLE_AGENT_ID);
  const inner =
    '<xml>' +
    `<ToUserName>${cdata(config.corpId)}</ToUserName>` +
    `<FromUserName>${cdata(SAMPLE_USER)}</FromUserName>` +
    `<CreateTime>${timestamp}</CreateTime>` +
    `<MsgType>${cdata('text')}</MsgType>` +
    `<Content>${cdata(options.text ?? 'hello from imgate simulate')}</Content>` +
    `<MsgId>${randomMsgId()}</MsgId>` +
    `<AgentID>${agentId}</AgentID>` +
    '</xml>';
  const encrypt = encryptWecomMessage(decodeEncodingAESKey(config.encodingAESKey), inner, config.corpId);
  const nonce = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    msg_signature: wecomSignature(config.token, timestamp, nonce, encrypt),
    timestamp,
    nonce,
  }).toString();
  const body =
    '<xml>' +
    `<ToUserName>${cdata(config.corpId)}</ToUserName>` +
    `<AgentID>${cdata(agentId)}</AgentID>` +
    `<Encrypt>${cdata(encrypt)}</Encrypt>` +
    '</xml>';
  return {
    path: `/hooks/${encodeURIComponent(config.id)}?${query}`,
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body,
  };
}

/** CDATA cannot hold `]]>`: split it across two sections, as XML writers do. */
function cdata(text: string): string {
  return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/** A fresh 19-digit id, like WeCom's MsgIds (which exceed 2^53, hence a string). */
function randomMsgId(): string {
  const random = BigInt(`0x${randomBytes(8).toString('hex')}`);
  return (10n ** 18n + (random % (9n * 10n ** 18n))).toString();
}
