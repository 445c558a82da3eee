import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';
import { wecomCredentialFields, wecomReceiveFields } from '../_kit/wecom-config.ts';

/**
 * WeChat customer service (微信客服, https://kf.weixin.qq.com/api/doc/path/94745): callbacks only
 * announce that something new is waiting (`kf_msg_or_event`), and the messages themselves are
 * pulled with `kf/sync_msg`, with the access token of the customer-service Secret. `apiBase`
 * defaults to https://qyapi.weixin.qq.com.
 */
export const wecomKfChannelSchema = channelBaseSchema.extend({
  platform: z
    .literal('wecom-kf')
    .describe('WeChat customer service (微信客服) of a WeCom corp: WeChat users writing to its customer-service accounts.'),
  ...wecomCredentialFields,
  corpSecret: wecomCredentialFields.corpSecret.describe(
    'The customer-service Secret (微信客服 → API → Secret), which gets the access tokens for `kf/sync_msg` and `kf/send_msg`; not an app\'s Secret.',
  ),
  ...wecomReceiveFields,
  openKfIds: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Customer-service account ids (`open_kfid`, `wk…`) to pull at start and on every poll, even before any callback named them. Accounts named by a callback are pulled as well.',
    ),
  pollIntervalSeconds: configNumber(z.number().int().min(0))
    .default(60)
    .describe(
      'Seconds between fallback pulls of every known account (those in `openKfIds` and those seen in a callback), for callbacks that never came; 0 turns polling off (callbacks only).',
    ),
}).describe(
  "Receives what WeChat users write to the corp's customer-service accounts: WeCom's callback only announces new messages, which imgate then pulls with `kf/sync_msg` (also on a timer), keeping WeCom's cursor per account in the store; answers through `kf/send_msg`. See docs/channels/wecom-kf.md.",
);

export type WecomKfChannelConfig = z.infer<typeof wecomKfChannelSchema>;
