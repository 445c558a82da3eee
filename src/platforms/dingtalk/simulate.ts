import { randomBytes } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import { apiBaseOf, robotCodeOf, type DingtalkChannelConfig } from './config.ts';
import { dingtalkSign } from './verify.ts';

export interface DingtalkSampleOptions {
  text?: string;
  /** A group message that @-mentions the robot; unset or false: a single chat (as for wechat-pad). */
  group?: boolean;
  now?: Date;
}

const SAMPLE_STAFF_ID = 'imgate-sample-user';
const SAMPLE_GROUP = 'cidImgateSampleGroup0000000==';
const SAMPLE_SINGLE_CHAT = 'cidImgateSampleSingleChat00==';
const SAMPLE_BOT = '$:LWCP_v1:$imgateSampleRobot00';
/** The documented example's sessionWebhook lives 5,400,060 ms (≈90 min) after createAt. */
const SESSION_LIFETIME_MS = 5_400_000;

/**
 * A text message as DingTalk posts it to a robot in HTTP mode — in a single chat, or with `group` in
 * a group, @-mentioning the robot — signed with the channel's appSecret
 * (https://open.dingtalk.com/document/orgapp/receive-message): for `imgate simulate dingtalk` and
 * tests. Its sessionWebhook points at `{apiBase}/robot/sendBySession?session=imgate-sample`:
 * against DingTalk a reply to it is refused (there is no such session or chat), visibly; against a
 * fake DingTalk, it lands.
 */
export function buildDingtalkSample(config: DingtalkChannelConfig, options: DingtalkSampleOptions = {}): CallbackSample {
  const now = (options.now ?? new Date()).getTime();
  const group = options.group === true;
  const text = options.text ?? 'hello from imgate simulate';
  const body: Record<string, unknown> = {
    conversationId: group ? SAMPLE_GROUP : SAMPLE_SINGLE_CHAT,
    ...(group
      ? { conversationTitle: 'imgate sample group', atUsers: [{ dingtalkId: SAMPLE_BOT }], isInAtList: true }
      : { atUsers: [], isInAtList: false }),
    chatbotCorpId: 'dingImgateSampleCorp',
    chatbotUserId: SAMPLE_BOT,
    msgId: `msg${randomBytes(16).toString('base64url')}`,
    senderNick: 'Sample User',
    isAdmin: false,
    senderStaffId: SAMPLE_STAFF_ID,
    sessionWebhookExpiredTime: now + SESSION_LIFETIME_MS,
    createAt: now,
    senderCorpId: 'dingImgateSampleCorp',
    conversationType: group ? '2' : '1',
    senderId: '$:LWCP_v1:$imgateSampleSender0',
    sessionWebhook: `${apiBaseOf(config)}/robot/sendBySession?session=imgate-sample`,
    // In a group DingTalk strips the robot's @name and leaves the space after it.
    text: { content: group ? ` ${text}` : text },
    robotCode: robotCodeOf(config),
    msgtype: 'text',
  };
  const timestamp = String(now);
  return {
    path: `/hooks/${encodeURIComponent(config.id)}`,
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', timestamp, sign: dingtalkSign(timestamp, config.appSecret) },
    body: JSON.stringify(body),
  };
}

/** `imgate simulate dingtalk`. */
export function simulateDingtalk(config: DingtalkChannelConfig, options: SimulateOptions): SimulatedCallback {
  return {
    sample: buildDingtalkSample(config, { text: options.text, group: options.group }),
    what: options.group ? 'a signed group text message that @-mentions the robot' : 'a signed single-chat text message',
  };
}
