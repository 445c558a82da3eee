import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';

export const DINGTALK_API_BASE = 'https://api.dingtalk.com';

/**
 * A DingTalk enterprise internal robot (企业内部机器人,
 * https://open.dingtalk.com/document/orgapp/robot-overview): the robot of an app made in the
 * DingTalk developer console. Its callbacks are signed with the app's secret; sends use the app's
 * access token (`/v1.0/oauth2/accessToken`), replies the `sessionWebhook` of a callback.
 */
export const dingtalkChannelSchema = channelBaseSchema
  .extend({
    platform: z.literal('dingtalk').describe('A DingTalk enterprise internal robot (钉钉企业内部机器人).'),
    mode: z
      .enum(['http', 'stream'])
      .default('http')
      .describe(
        "How messages arrive: `http`, DingTalk posts them to `/hooks/<id>` (the robot's HTTP message receiving mode); `stream`, over DingTalk's long connection (Stream mode: no public URL needed).",
      ),
    gatewayUrl: z
      .url()
      .optional()
      .describe('Stream mode: the host of `/v1.0/gateway/connections/open`, where the long connection is asked for. Unset: `apiBase`.'),
    appKey: z
      .string()
      .min(1)
      .describe("The app's AppKey (shown as Client ID in newer consoles); gets access tokens."),
    appSecret: z
      .string()
      .min(1)
      .describe("The app's AppSecret (Client Secret): signs every callback and gets access tokens. A secret."),
    robotCode: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The robot's RobotCode, sent with every proactive message; unset: the appKey, which is what DingTalk gives an enterprise internal robot.",
      ),
    tokenUrl: z
      .url()
      .optional()
      .describe(
        'Take access tokens from this service instead of DingTalk: it gets `POST {appKey, appSecret}` and answers like `/v1.0/oauth2/accessToken` (`{accessToken, expireIn}`, or `{access_token, expires_in}` as `gettoken` does).',
      ),
    timestampWindowSeconds: configNumber(z.number().int().min(0))
      .default(3600)
      .describe(
        "How far a callback's `timestamp` header may be from now (DingTalk's rule: one hour). 0 turns the check off, which lets one captured signature be replayed for ever.",
      ),
  })
  .describe(
    'Receives what people send the robot (HTTP or Stream mode), replies through each message\'s sessionWebhook and sends proactively through the robot API. See docs/channels/dingtalk.md.',
  );

export type DingtalkChannelConfig = z.infer<typeof dingtalkChannelSchema>;

/** The robotCode proactive sends name: the configured one, else the appKey (equal for internal robots). */
export function robotCodeOf(config: DingtalkChannelConfig): string {
  return config.robotCode ?? config.appKey;
}

export function apiBaseOf(config: DingtalkChannelConfig): string {
  return (config.apiBase ?? DINGTALK_API_BASE).replace(/\/+$/, '');
}

export function gatewayBaseOf(config: DingtalkChannelConfig): string {
  return config.gatewayUrl?.replace(/\/+$/, '') ?? apiBaseOf(config);
}
