import { randomBytes } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import type { QqChannelConfig } from './config.ts';
import { qqSign } from './signature.ts';

export interface QqSampleOptions {
  text?: string;
  /** A group message that @-mentions the bot (GROUP_AT_MESSAGE_CREATE); unset: a C2C message. */
  group?: boolean;
  now?: Date;
}

/** The user and group that sample messages come from (openids are 32 hex digits). */
export const QQ_SAMPLE_USER = 'A1B2C3D4E5F60718293A4B5C6D7E8F90';
export const QQ_SAMPLE_GROUP = '0F1E2D3C4B5A69788796A5B4C3D2E1F0';

/**
 * An op 0 `C2C_MESSAGE_CREATE` — or with `group` a `GROUP_AT_MESSAGE_CREATE` — as QQ posts it to a
 * webhook, signed with the channel's secret
 * (https://bot.q.qq.com/wiki/develop/api-v2/dev-prepare/interface-framework/sign.html): for
 * `imgate simulate qq` and tests. A reply to it through imgate goes to `{apiBase}` and is refused
 * by QQ (no such message), visibly; against a fake QQ it lands.
 */
export function buildQqSample(config: QqChannelConfig, options: QqSampleOptions = {}): CallbackSample {
  const now = options.now ?? new Date();
  const group = options.group === true;
  const text = options.text ?? 'hello from imgate simulate';
  const eventType = group ? 'GROUP_AT_MESSAGE_CREATE' : 'C2C_MESSAGE_CREATE';
  const data = {
    id: `ROBOT1.0_imgate-sample-${randomBytes(12).toString('base64url')}`,
    // In a group QQ removes the bot's @ and leaves the space after it.
    content: group ? ` ${text}` : text,
    timestamp: now.toISOString(),
    ...(group ? { author: { member_openid: QQ_SAMPLE_USER }, group_openid: QQ_SAMPLE_GROUP } : { author: { user_openid: QQ_SAMPLE_USER } }),
  };
  const body = JSON.stringify({ op: 0, id: `${eventType}:${randomBytes(12).toString('hex')}`, t: eventType, d: data });
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return {
    path: `/hooks/${encodeURIComponent(config.id)}`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'QQBot-Callback',
      'x-bot-appid': config.appId,
      'x-signature-method': 'Ed25519',
      'x-signature-timestamp': timestamp,
      'x-signature-ed25519': qqSign(config.secret, timestamp + body),
    },
    body,
  };
}

/** `imgate simulate qq`. */
export function simulateQq(config: QqChannelConfig, options: SimulateOptions): SimulatedCallback {
  return {
    sample: buildQqSample(config, { text: options.text, group: options.group }),
    what: options.group ? 'a signed GROUP_AT_MESSAGE_CREATE (op 0) event' : 'a signed C2C_MESSAGE_CREATE (op 0) event',
  };
}
