import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';
import { wecomCredentialFields, wecomReceiveFields } from '../_kit/wecom-config.ts';

/**
 * A WeCom self-built app (企业微信自建应用): callbacks are encrypted with the app's Token and
 * EncodingAESKey for the CorpID (https://developer.work.weixin.qq.com/document/path/90968); sends
 * go through `message/send` (path/90236) with the app's Secret and AgentId. `apiBase` defaults to
 * https://qyapi.weixin.qq.com.
 */
export const wecomChannelSchema = channelBaseSchema.extend({
  platform: z.literal('wecom').describe('A WeCom self-built app (企业微信自建应用): direct messages between members and the app.'),
  ...wecomCredentialFields,
  corpSecret: wecomCredentialFields.corpSecret.describe("The app's Secret (应用 Secret), which gets access tokens (`gettoken`)."),
  agentId: configNumber(z.number().int().positive())
    .optional()
    .describe("The app's AgentId (an integer, on the app's page in the admin console); required to send."),
  ...wecomReceiveFields,
});

export type WecomChannelConfig = z.infer<typeof wecomChannelSchema>;
