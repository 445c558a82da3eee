import { z } from 'zod';
import { configBoolean, configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';
import { DEFAULT_INTENTS, INTENT_BITS, INTENT_NAMES } from './intents.ts';

/** @discordjs/rest's default host; the API version (`/v10`) is added to it. */
export const DISCORD_API_BASE = 'https://discord.com/api';

const SNOWFLAKE = /^\d{1,20}$/;
const ED25519_KEY_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * A Discord application and its bot user: messages over the Gateway (a long connection the bot
 * opens, https://discord.com/developers/docs/events/gateway), slash commands over HTTP interactions
 * at `/hooks/<id>` (https://discord.com/developers/docs/interactions/overview), sends with the bot
 * token.
 */
export const discordChannelSchema = channelBaseSchema
  .extend({
    platform: z.literal('discord').describe('A Discord application with its bot user.'),
    token: z
      .string()
      .min(1)
      .describe("The bot's token (Bot → Token in the developer portal): identifies on the Gateway and authorizes every API call. A secret."),
    applicationId: z
      .string()
      .regex(SNOWFLAKE, 'a Discord id (digits)')
      .optional()
      .describe(
        "The application's id (General Information → Application ID): where replies to slash commands are posted (`/webhooks/<applicationId>/<interaction token>`). Unset: the id each interaction names.",
      ),
    publicKey: z
      .string()
      .regex(ED25519_KEY_HEX, 'the 64 hex characters of the Public Key')
      .optional()
      .describe(
        "The application's Public Key (General Information), which checks the Ed25519 signature of every interaction posted to `/hooks/<id>`. Unset: interactions are refused; the Gateway works without it.",
      ),
    intents: z
      .union([configNumber(z.number().int().min(0)), z.array(z.enum(INTENT_NAMES)).min(1)], { error: intentsError })
      .default(DEFAULT_INTENTS)
      .describe(
        'The Gateway intents to IDENTIFY with: a list of names as in Discord\'s docs, or the bitfield as a number. MESSAGE_CONTENT is privileged: enable it under Bot → Privileged Gateway Intents, or guild messages arrive without text.',
      ),
    gateway: configBoolean()
      .default(true)
      .describe('Hold the Gateway connection, over which messages arrive. `false`: interactions only (an app with an Interactions Endpoint URL and no Gateway); sends work either way.'),
    gatewayUrl: z
      .url({ protocol: /^wss?$/ })
      .optional()
      .describe('The Gateway to connect to (`wss://…`); unset: the URL `GET {apiBase}/v10/gateway/bot` answers. After a drop imgate resumes at the `resume_gateway_url` Discord gave.'),
    timestampWindowSeconds: configNumber(z.number().int().min(0))
      .default(300)
      .describe("How far an interaction's `X-Signature-Timestamp` may be from now; 0 turns the check off."),
    rateLimit: z
      .strictObject({
        // At most 60, as for the other channels: a waiting send holds its idempotency claim.
        maxWaitSeconds: configNumber(z.number().int().min(0).max(60))
          .default(5)
          .describe(
            "A send that Discord's rate limits (the route's bucket, the global 50 a second, a 429's `retry_after`) would hold back longer than this is refused with 429 `IMG_ERR_PLATFORM_RATE_LIMITED` and `retry_after`; shorter waits are waited out.",
          ),
      })
      .prefault({})
      .describe('How long a send may wait for Discord\'s rate limits.'),
    testPrivateKey: z
      .string()
      .regex(ED25519_KEY_HEX, 'the 64 hex characters of an Ed25519 private key (seed)')
      .optional()
      .describe(
        "For `imgate simulate discord` only: the private half of a key pair you made, whose public half is `publicKey` — Discord's own private key is nobody's to have, so a simulated interaction can only be signed with a pair of yours (docs/channels/discord.md). Never set with the application's real Public Key.",
      ),
  })
  .describe('Receives messages over the Gateway and slash commands as HTTP interactions, and sends with `POST /channels/{id}/messages`. See docs/channels/discord.md.');

/** The union's own message would say only "Invalid input": name what is wrong instead. */
function intentsError(issue: { input?: unknown }): string {
  const unknown = Array.isArray(issue.input) ? issue.input.filter((name) => !INTENT_BITS.has(String(name))) : [];
  if (unknown.length > 0) return `unknown intent ${unknown.join(', ')}; the names are ${INTENT_NAMES.join(', ')}`;
  return 'a bitfield (a whole number) or a non-empty list of intent names such as GUILD_MESSAGES';
}

export type DiscordChannelConfig = z.infer<typeof discordChannelSchema>;

export function apiBaseOf(config: Pick<DiscordChannelConfig, 'apiBase'>): string {
  return (config.apiBase ?? DISCORD_API_BASE).replace(/\/+$/, '');
}
