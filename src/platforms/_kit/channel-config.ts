import { z } from 'zod';
import { configBoolean, configNumber } from '../../core/env-scalars.ts';
import { isValidAllowEntry } from '../../core/ip-allow-list.ts';

/** Keys every channel has, whatever its platform (docs/config.md, "Keys of every channel"). */
export const channelBaseSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit')
    .describe('The channel id: it names the channel in routes (`/hooks/<id>`), events and sends.'),
  enabled: configBoolean().default(true).describe('A disabled channel answers 404 and sends nothing.'),
  apiBase: z.url().optional().describe("The platform API's base URL; point it at a fake server in tests."),
  allowIps: z
    .array(z.string().refine(isValidAllowEntry, 'not an IP address or CIDR'))
    .optional()
    .describe('Addresses or CIDRs allowed to call this channel\'s callback; others get 403. Unset: any.'),
  reconnect: z
    .strictObject({
      initialDelayMs: configNumber(z.number().int().positive())
        .default(1000)
        .describe('Wait before the first reconnect; doubled after each failed attempt, back to this once a connection stayed up maxDelayMs.'),
      maxDelayMs: configNumber(z.number().int().positive())
        .default(60000)
        .describe('Longest wait between reconnects; also the wait after the platform refused the connection (credentials, intents).'),
    })
    .prefault({})
    .describe(
      "Long-connection modes only (Discord, Feishu/Lark websocket, DingTalk stream, QQ websocket, Slack socket, Telegram polling): how a dropped connection is retried (±20 % jitter). Feishu/Lark: only once the SDK gives up; ordinary drops follow Feishu's ClientConfig.",
    ),
});
