import { z } from 'zod';
import { channelBaseSchema } from '../_kit/channel-config.ts';

/** The iLink bot API's host, as the official client `@tencent-weixin/openclaw-weixin` calls it. */
export const ILINK_API_BASE = 'https://ilinkai.weixin.qq.com';
/** WeChat's media CDN for iLink bots (the official client's `CDN_BASE_URL`). */
export const ILINK_CDN_BASE = 'https://novac2c.cdn.weixin.qq.com/c2c';

/**
 * A personal WeChat account as a bot through Tencent's iLink bot API (the protocol of the official
 * OpenClaw channel, npm `@tencent-weixin/openclaw-weixin`): logged in by scanning a QR code, messages
 * pulled with the `getupdates` long poll, answers with the user's latest `context_token`.
 */
export const wechatIlinkChannelSchema = channelBaseSchema
  .extend({
    platform: z.literal('wechat-ilink').describe("Personal WeChat through Tencent's official iLink bot API."),
    cdnBase: z.url().optional().describe(`WeChat's media CDN, where sent images are uploaded encrypted (default \`${ILINK_CDN_BASE}\`).`),
    botType: z
      .string()
      .regex(/^\d{1,4}$/, 'a number, as iLink numbers bot types')
      .default('3')
      .describe('The `bot_type` a login asks a QR code for; `3` is what the official OpenClaw channel asks.'),
  })
  .describe(
    'Receives with the `getupdates` long poll (one node at a time) and sends with `sendmessage`; the bot token comes from `imgate login <channel>` and is kept in the store, encrypted with `IMGATE_SECRET_KEY`. See docs/channels/wechat-ilink.md.',
  );

export type WechatIlinkChannelConfig = z.infer<typeof wechatIlinkChannelSchema>;

/** A base URL without its trailing slashes. */
export function trimBase(url: string): string {
  return url.replace(/\/+$/, '');
}
