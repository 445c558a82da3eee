import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';
import { wecomReceiveFields } from '../_kit/wecom-config.ts';

/**
 * WeCom's limit is 20 messages a minute per robot (群机器人配置说明, the robot send API page:
 * https://developer.work.weixin.qq.com/document/path/91770). Newer docs raise it to 100 a minute
 * per chat for robots with callbacks: raise `messages` when yours is one of those.
 */
const rateLimitSchema = z
  .strictObject({
    messages: configNumber(z.number().int().positive())
      .default(20)
      .describe('Messages a robot may send in any `perSeconds` window (WeCom: 20 a minute per robot).'),
    perSeconds: configNumber(z.number().int().positive()).default(60).describe('The window of `messages`, in seconds.'),
    // At most 60: a waiting send holds its idempotency claim, which another node takes over as
    // abandoned after two minutes (src/outbound/send-service.ts); 60 s of waiting plus the platform
    // call stays well inside that.
    maxWaitSeconds: configNumber(z.number().int().min(0).max(60))
      .default(60)
      .describe(
        'A send beyond the limit waits for a free slot in arrival order, unless its turn would come later than this: then it gets 429 `IMG_ERR_SEND_RATE_LIMITED` with `retry_after`. 0: never wait.',
      ),
  })
  .prefault({})
  .describe("imgate's own limit on sends per robot (per webhook key), so WeCom never has to refuse one.");

export const wecomRobotChannelSchema = channelBaseSchema
  .extend({
    platform: z.literal('wecom-robot').describe('A WeCom group robot (企业微信群机器人): its webhook to send, its callback to receive.'),
    webhookKey: z
      .string()
      .min(1)
      .refine((key) => !/[/?&=]/.test(key), 'only the key: the `key=` value of the webhook URL, not the whole URL')
      .optional()
      .describe(
        "The robot's webhook key (the `key=` of its webhook URL, `…/cgi-bin/webhook/send?key=<webhookKey>`). Needed to send anything but replies to received messages. A secret: anyone with it can post to the group.",
      ),
    token: wecomReceiveFields.token
      .optional()
      .describe("The Token of the robot's callback (set with its receive URL); with `encodingAESKey`, turns receiving on."),
    encodingAESKey: wecomReceiveFields.encodingAESKey
      .optional()
      .describe("The EncodingAESKey of the robot's callback; with `token`, turns receiving on."),
    timestampWindowSeconds: wecomReceiveFields.timestampWindowSeconds,
    rateLimit: rateLimitSchema,
  })
  .superRefine((c, ctx) => {
    if (Boolean(c.token) !== Boolean(c.encodingAESKey)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.token ? 'encodingAESKey' : 'token'],
        message: 'token and encodingAESKey go together: give both to receive callbacks, or neither',
      });
    }
    if (!c.webhookKey && !c.token) {
      ctx.addIssue({
        code: 'custom',
        path: ['webhookKey'],
        message: 'give webhookKey to send, or token and encodingAESKey to receive (or all three)',
      });
    }
  })
  .describe(
    "Sends through the robot's webhook (text, markdown, image) and, when `token` and `encodingAESKey` are set, receives its callbacks (messages that @ the robot). See docs/channels/wecom-robot.md.",
  );

export type WecomRobotChannelConfig = z.infer<typeof wecomRobotChannelSchema>;

/** Whether the channel takes callbacks (both keys set). */
export function receivesCallbacks(config: WecomRobotChannelConfig): config is WecomRobotChannelConfig & { token: string; encodingAESKey: string } {
  return Boolean(config.token && config.encodingAESKey);
}
