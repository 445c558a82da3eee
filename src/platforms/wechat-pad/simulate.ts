import { createHmac, randomBytes } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import type { WechatPadChannelConfig } from './config.ts';

export interface WechatPadSampleOptions {
  format: 'flat' | 'pad';
  group?: boolean;
  text?: string;
  now?: Date;
}

const SAMPLE_ROOM = '34567890123@chatroom';
const SAMPLE_SENDER = 'wxid_imgate_sample_sender';
const SAMPLE_BOT = 'wxid_imgate_sample_bot';
const ID_PLACEHOLDER = '__NEW_MSG_ID__';
const TWO_POW_53 = 2n ** 53n;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A correctly authenticated callback for this channel, as a pad server would send it: for
 * `imgate simulate wechat-pad` and for tests. The pad format is gewechat's AddMsg envelope with a
 * NewMsgId above 2^53 written as a bare JSON number, as real servers do
 * (docs/channels/wechat-pad.md, "Ids").
 */
export function buildWechatPadSample(channel: WechatPadChannelConfig, options: WechatPadSampleOptions): CallbackSample {
  const now = options.now ?? new Date();
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const text = options.text ?? 'hello from imgate simulate';
  const newMsgId = randomNewMsgId();
  const body =
    options.format === 'flat'
      ? flatBody(channel, newMsgId, nowSeconds, text, options.group === true)
      : padBody(channel, newMsgId, nowSeconds, text, options.group === true);
  return { path: samplePath(channel), method: 'POST', headers: authHeaders(channel, body, nowSeconds), body };
}

function flatBody(channel: WechatPadChannelConfig, msgId: string, now: number, text: string, group: boolean): string {
  const bot = channel.botWxid ?? SAMPLE_BOT;
  return JSON.stringify({
    key: bot,
    msgId,
    timestamp: now,
    fromUser: group ? SAMPLE_ROOM : SAMPLE_SENDER,
    toUser: bot,
    msgType: 1,
    content: group ? `${SAMPLE_SENDER}:\n${text}` : text,
    isSelfMsg: false,
    createTime: now,
    isHistory: false,
  });
}

function padBody(channel: WechatPadChannelConfig, newMsgId: string, now: number, text: string, group: boolean): string {
  const bot = channel.botWxid ?? SAMPLE_BOT;
  // In a group the sample mentions the bot, so `groups: mention` subscriptions see it too.
  const content = group ? `${SAMPLE_SENDER}:\n@imgate\u2005${text}` : text;
  const atList = group ? `<atuserlist><![CDATA[,${bot}]]></atuserlist>` : '';
  const json = JSON.stringify({
    TypeName: 'AddMsg',
    Appid: channel.appId ?? 'wx_imgate_sample_app',
    Wxid: bot,
    Data: {
      MsgId: 1_000_000_000 + Math.floor(Math.random() * 1_000_000_000),
      FromUserName: { string: group ? SAMPLE_ROOM : SAMPLE_SENDER },
      ToUserName: { string: bot },
      MsgType: 1,
      Content: { string: content },
      Status: 3,
      ImgStatus: 1,
      ImgBuf: { iLen: 0 },
      CreateTime: now,
      MsgSource: `<msgsource>${atList}<silence>0</silence><membercount>3</membercount></msgsource>`,
      PushContent: group ? 'Sample Sender在群聊中@了你' : `Sample Sender : ${text}`,
      NewMsgId: ID_PLACEHOLDER,
      MsgSeq: 700000000 + Math.floor(Math.random() * 1000000),
    },
  });
  // JSON.stringify cannot write a number beyond 2^53 exactly: swap the quoted placeholder for the digits.
  return json.replace(`"${ID_PLACEHOLDER}"`, newMsgId);
}

function authHeaders(channel: WechatPadChannelConfig, body: string, nowSeconds: number): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (channel.auth === 'signature' && channel.secret) {
    const timestamp = String(nowSeconds);
    const separator = channel.signatureFormat === 'concat' ? '' : ':';
    headers['x-webhook-timestamp'] = timestamp;
    headers['x-webhook-signature'] = createHmac('sha256', channel.secret)
      .update(`${timestamp}${separator}${body}`)
      .digest('hex');
  }
  return headers;
}

function samplePath(channel: WechatPadChannelConfig): string {
  const base = `/hooks/${encodeURIComponent(channel.id)}`;
  return channel.auth === 'path-token' && channel.pathToken ? `${base}/${encodeURIComponent(channel.pathToken)}` : base;
}

/** A NewMsgId in (2^53, 2^63): beyond what a JS number holds exactly, like the real ones. */
function randomNewMsgId(): string {
  const random = BigInt(`0x${randomBytes(8).toString('hex')}`);
  return (TWO_POW_53 + 1n + (random % (INT64_MAX - TWO_POW_53))).toString();
}

/** `imgate simulate wechat-pad`. */
export function simulateWechatPad(config: WechatPadChannelConfig, options: SimulateOptions): SimulatedCallback {
  return {
    sample: buildWechatPadSample(config, { format: options.format, group: options.group, text: options.text }),
    what: `a signed ${options.format} message`,
  };
}
