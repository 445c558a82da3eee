import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';

/** Slack's Web API host; methods are `{apiBase}/api/<method>` (https://api.slack.com/web). */
export const SLACK_API_BASE = 'https://slack.com';

/**
 * `chat.postMessage` is in Slack's "special" rate-limit tier: about one message a second to one
 * channel, short bursts tolerated (https://api.slack.com/methods/chat.postMessage#rate_limiting,
 * https://api.slack.com/apis/rate-limits). Sends beyond that queue here instead of coming back as 429.
 */
const rateLimitSchema = z
  .strictObject({
    messages: configNumber(z.number().int().positive())
      .default(1)
      .describe('Messages the app may post to one Slack channel in any `perSeconds` window (Slack: about 1 a second per channel).'),
    perSeconds: configNumber(z.number().int().positive()).default(1).describe('The window of `messages`, in seconds.'),
    // At most 60, as for the other channels: a waiting send holds its idempotency claim.
    maxWaitSeconds: configNumber(z.number().int().min(0).max(60))
      .default(10)
      .describe(
        'A send beyond the limit waits for a free slot in arrival order, unless its turn would come later than this: then it gets 429 `IMG_ERR_SEND_RATE_LIMITED` with `retry_after`. 0: never wait.',
      ),
  })
  .prefault({})
  .describe("imgate's own limit on sends per Slack channel (per `to`), held for the whole cluster, so Slack rarely has to refuse one.");

/**
 * A Slack app with a bot user, installed in one workspace. Events come over the Events API
 * (https://api.slack.com/apis/events-api) to `/hooks/<id>`, or over Socket Mode
 * (https://api.slack.com/apis/socket-mode) without a public URL; sends use `chat.postMessage`.
 */
export const slackChannelSchema = channelBaseSchema
  .extend({
    platform: z.literal('slack').describe('A Slack app with a bot user.'),
    mode: z
      .enum(['events', 'socket'])
      .default('events')
      .describe(
        '`events`: Slack posts events to `/hooks/<id>` (the Events API Request URL), signed with the signing secret. `socket`: imgate opens a Socket Mode WebSocket with the app-level token and takes the events from it, no public URL needed.',
      ),
    botToken: z
      .string()
      .regex(/^xoxb-/, 'a bot token starts with xoxb-')
      .describe("The Bot User OAuth Token (`xoxb-…`, OAuth & Permissions), which authorizes `chat.postMessage`. Needs the `chat:write` scope. A secret."),
    signingSecret: z
      .string()
      .min(1)
      .optional()
      .describe(
        'The Signing Secret (Basic Information → App Credentials), which checks `X-Slack-Signature` on every request to `/hooks/<id>`. Required in `events` mode. A secret.',
      ),
    appToken: z
      .string()
      .regex(/^xapp-/, 'an app-level token starts with xapp-')
      .optional()
      .describe(
        'An app-level token (`xapp-…`, Basic Information → App-Level Tokens) with the `connections:write` scope, which opens Socket Mode connections (`apps.connections.open`). Required in `socket` mode. A secret.',
      ),
    timestampWindowSeconds: configNumber(z.number().int().min(1))
      .default(300)
      .describe("How far a request's `X-Slack-Request-Timestamp` may be from now (Slack's advice: five minutes)."),
    rateLimit: rateLimitSchema,
  })
  .refine((config) => config.mode !== 'events' || config.signingSecret !== undefined, {
    path: ['signingSecret'],
    message: 'events mode needs the signingSecret, which checks every request Slack posts to /hooks/<id>',
  })
  .refine((config) => config.mode !== 'socket' || config.appToken !== undefined, {
    path: ['appToken'],
    message: 'socket mode needs an app-level token (xapp-…) with connections:write, which opens the Socket Mode connection',
  })
  .describe(
    'Receives messages and mentions over the Events API (signed requests to `/hooks/<id>`) or Socket Mode, and sends with `chat.postMessage`. See docs/channels/slack.md.',
  );

export type SlackChannelConfig = z.infer<typeof slackChannelSchema>;

/** The Web API host of a channel, without a trailing slash. */
export function slackApiBase(config: Pick<SlackChannelConfig, 'apiBase'>): string {
  return (config.apiBase ?? SLACK_API_BASE).replace(/\/+$/, '');
}
