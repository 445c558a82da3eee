import { randomBytes } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import { WECOM_SAMPLE_USER, cdata, encryptedWecomSample, wecomTimestamp } from '../_kit/wecom-sample.ts';
import type { WecomChannelConfig } from './config.ts';

export interface WecomSampleOptions {
  text?: string;
  now?: Date;
}

/** Used when the channel has no agentId; WeCom's own samples use 1000002-like ids. */
const SAMPLE_AGENT_ID = 1000002;

/**
 * A text message callback as WeCom sends it for this channel, encrypted with its EncodingAESKey
 * for its CorpID and signed with its Token (https://developer.work.weixin.qq.com/document/path/90968):
 * for `imgate simulate wecom`, so the whole inbound path can be tried without a WeCom account.
 */
export function buildWecomSample(config: WecomChannelConfig, options: WecomSampleOptions = {}): CallbackSample {
  const timestamp = wecomTimestamp(options.now ?? new Date());
  const agentId = String(config.agentId ?? SAMPLE_AGENT_ID);
  const inner =
    '<xml>' +
    `<ToUserName>${cdata(config.corpId)}</ToUserName>` +
    `<FromUserName>${cdata(WECOM_SAMPLE_USER)}</FromUserName>` +
    `<CreateTime>${timestamp}</CreateTime>` +
    `<MsgType>${cdata('text')}</MsgType>` +
    `<Content>${cdata(options.text ?? 'hello from imgate simulate')}</Content>` +
    `<MsgId>${randomMsgId()}</MsgId>` +
    `<AgentID>${agentId}</AgentID>` +
    '</xml>';
  return encryptedWecomSample(config, {
    receiveId: config.corpId,
    innerXml: inner,
    timestamp,
    outer: [
      ['ToUserName', config.corpId],
      ['AgentID', agentId],
    ],
  });
}

/** A fresh 19-digit id, like WeCom's MsgIds (which exceed 2^53, hence a string). */
function randomMsgId(): string {
  const random = BigInt(`0x${randomBytes(8).toString('hex')}`);
  return (10n ** 18n + (random % (9n * 10n ** 18n))).toString();
}

/** `imgate simulate wecom`. */
export function simulateWecom(config: WecomChannelConfig, options: SimulateOptions): SimulatedCallback {
  return { sample: buildWecomSample(config, { text: options.text }), what: 'an encrypted app text message' };
}
