import { randomBytes } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import { WECOM_API_BASE } from '../_kit/wecom-api.ts';
import { WECOM_SAMPLE_USER, cdata, encryptedWecomSample, wecomTimestamp } from '../_kit/wecom-sample.ts';
import type { WecomRobotChannelConfig } from './config.ts';

export interface WecomRobotSampleOptions {
  text?: string;
  now?: Date;
}

const SAMPLE_CHAT = 'wrkSFfCgAAimgateSampleChat0001';
/** A robot's webhook key when the channel has none: replies to the sample then fail at WeCom, visibly. */
const SAMPLE_KEY = '00000000-0000-0000-0000-000000000000';

/**
 * A robot callback as WeCom sends it — a group text message that @-mentions the robot, encrypted
 * with the channel's EncodingAESKey (receiveid empty, as for every robot) and signed with its
 * Token — for `imgate simulate wecom-robot` and tests. Its WebhookUrl is the channel's own webhook,
 * so a bot that replies to the sample posts to the real group.
 */
export function buildWecomRobotSample(config: WecomRobotChannelConfig, options: WecomRobotSampleOptions = {}): CallbackSample {
  if (!config.token || !config.encodingAESKey) {
    throw new Error(`channel "${config.id}" has no token and encodingAESKey: it takes no callbacks to simulate`);
  }
  const text = options.text ?? 'hello from imgate simulate';
  const base = (config.apiBase ?? WECOM_API_BASE).replace(/\/+$/, '');
  const webhookUrl = `${base}/cgi-bin/webhook/send?key=${encodeURIComponent(config.webhookKey ?? SAMPLE_KEY)}`;
  const xml = [
    '<xml>',
    `<WebhookUrl>${cdata(webhookUrl)}</WebhookUrl>`,
    `<MsgId>${cdata(randomBytes(18).toString('base64url'))}</MsgId>`,
    `<ChatId>${cdata(SAMPLE_CHAT)}</ChatId>`,
    '<ChatType>group</ChatType>',
    `<From><UserId>${cdata(WECOM_SAMPLE_USER)}</UserId><Name>${cdata('Sample User')}</Name><Alias>${cdata('sample')}</Alias></From>`,
    `<GetChatInfoUrl>${cdata(`${base}/cgi-bin/webhook/get_chat_info?code=imgate-sample`)}</GetChatInfoUrl>`,
    '<MsgType>text</MsgType>',
    `<Text><Content>${cdata(`@imgate ${text}`)}</Content></Text>`,
    '</xml>',
  ].join('');
  const keys = { id: config.id, token: config.token, encodingAESKey: config.encodingAESKey };
  return encryptedWecomSample(keys, { receiveId: '', innerXml: xml, timestamp: wecomTimestamp(options.now ?? new Date()) });
}

/** `imgate simulate wecom-robot`. */
export function simulateWecomRobot(config: WecomRobotChannelConfig, options: SimulateOptions): SimulatedCallback {
  return { sample: buildWecomRobotSample(config, { text: options.text }), what: 'an encrypted group robot message' };
}
