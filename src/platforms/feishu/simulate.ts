import { randomBytes } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import type { FeishuChannelConfig } from './config.ts';
import { encryptFeishuPayload, larkSignature } from './crypto.ts';

export interface FeishuSampleOptions {
  text?: string;
  now?: Date;
}

/** The user and p2p chat that sample messages come from. */
export const FEISHU_SAMPLE_USER = 'ou_imgate0sample0user000000000000';
export const FEISHU_SAMPLE_CHAT = 'oc_imgate0sample0chat000000000000';

/**
 * An `im.message.receive_v1` text message in a p2p chat as Feishu posts it to this channel: with
 * its verification token, and, when the channel has an Encrypt Key, encrypted and signed
 * (接收事件,
 * https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/encrypt-key-encryption-configuration-case).
 * For `imgate simulate feishu|lark` and tests; built with imgate's own crypto, which the tests
 * check against the official SDK.
 */
export function buildFeishuSample(config: FeishuChannelConfig, options: FeishuSampleOptions = {}): CallbackSample {
  const now = options.now ?? new Date();
  const millis = String(now.getTime());
  const event = {
    schema: '2.0',
    header: {
      event_id: randomBytes(16).toString('hex'),
      event_type: 'im.message.receive_v1',
      create_time: millis,
      token: config.verificationToken ?? '',
      app_id: config.appId,
      tenant_key: 'imgate-sample-tenant',
    },
    event: {
      sender: { sender_id: { open_id: FEISHU_SAMPLE_USER }, sender_type: 'user', tenant_key: 'imgate-sample-tenant' },
      message: {
        message_id: `om_${randomBytes(16).toString('hex')}`,
        create_time: millis,
        chat_id: FEISHU_SAMPLE_CHAT,
        chat_type: 'p2p',
        message_type: 'text',
        content: JSON.stringify({ text: options.text ?? 'hello from imgate simulate' }),
      },
    },
  };
  const path = `/hooks/${encodeURIComponent(config.id)}`;
  if (!config.encryptKey) {
    return { path, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
  }
  const body = JSON.stringify({ encrypt: encryptFeishuPayload(config.encryptKey, JSON.stringify(event)) });
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const nonce = randomBytes(8).toString('hex');
  return {
    path,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-lark-request-timestamp': timestamp,
      'x-lark-request-nonce': nonce,
      'x-lark-signature': larkSignature(timestamp, nonce, config.encryptKey, body),
    },
    body,
  };
}

/** `imgate simulate feishu|lark`. */
export function simulateFeishu(config: FeishuChannelConfig, options: SimulateOptions): SimulatedCallback {
  return {
    sample: buildFeishuSample(config, { text: options.text }),
    what: config.encryptKey ? 'an encrypted, signed im.message.receive_v1 text message' : 'a plain im.message.receive_v1 text message',
  };
}
