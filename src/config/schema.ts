import { z } from 'zod';
import { channelSchemas } from '../platforms/registry.ts';

/**
 * The one config schema: the TypeScript types, the defaults, the validation and `docs/config.md`
 * (`npm run docs:config`) all come from it.
 */

/** Seconds: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (PRODUCT.md, "Delivery to subscribers"). */
export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000];

const serverSchema = z
  .object({
    host: z.string().default('127.0.0.1').describe('Address to listen on. Use 0.0.0.0 to accept platform callbacks from outside.'),
    port: z.coerce.number().int().min(0).max(65535).default(8080).describe('Port to listen on (0: any free port).'),
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024)
      .describe('Largest request body accepted; larger ones get 413.'),
    trustProxies: z
      .array(z.string())
      .default([])
      .describe('Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (for allowIps).'),
    maxPendingIngest: z
      .number()
      .int()
      .positive()
      .default(10000)
      .describe('Inbound events waiting for a commit beyond which callbacks get 503 instead of being accepted.'),
    shutdownTimeoutMs: z.number().int().positive().default(10000).describe('How long a graceful shutdown waits for in-flight work.'),
  })
  .prefault({});

const storageSchema = z
  .object({
    url: z
      .string()
      .default('sqlite:./data/imgate.db')
      .describe('`sqlite:<path>` (embedded default, created on first start).'),
    retentionHours: z
      .number()
      .int()
      .min(24, 'at least 24: dedup keys must outlive every platform retry')
      .default(168)
      .describe('Events, deliveries, attempts and sends older than this are purged. Dedup keys live as long as their event.'),
    purgeIntervalMinutes: z.number().int().positive().default(60).describe('How often the purge runs.'),
  })
  .prefault({});

const deliverySchema = z
  .object({
    enabled: z.boolean().default(true).describe('Run the delivery worker in this process.'),
    concurrencyPerSubscription: z
      .number()
      .int()
      .positive()
      .default(8)
      .describe('Requests in flight to one subscriber at most; a slow subscriber never holds up the others.'),
    pollIntervalMs: z
      .number()
      .int()
      .positive()
      .default(1000)
      .describe('How often due retries and deliveries left by a stopped process are picked up.'),
  })
  .prefault({});

const subscriptionSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-"'),
  url: z.url().describe('Where events are POSTed.'),
  secret: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2)])
    .describe('Signing secret; two during a rotation (both signatures are sent with `standard`).'),
  signing: z.enum(['standard', 'abot', 'padpro']).default('standard'),
  format: z.enum(['unified', 'raw']).default('unified'),
  channels: z.array(z.string()).optional().describe('Only events of these channels. Unset: all.'),
  messageTypes: z
    .array(z.union([z.string(), z.number().int()]).transform(String))
    .optional()
    .describe('Only these message types: unified names or WeChat numbers (1, 3, 34, 43, 47, 49, 10000, 10002).'),
  includeSelf: z.boolean().default(false).describe("Also deliver the bot account's own messages."),
  groups: z.enum(['all', 'mention', 'none']).default('all').describe('Group messages: all, only those mentioning the bot, none.'),
  enabled: z.boolean().default(true),
  timeoutMs: z.number().int().positive().max(60000).default(10000),
  retry: z
    .object({ schedule: z.array(z.number().nonnegative()).default(DEFAULT_RETRY_SCHEDULE) })
    .prefault({})
    .describe('Delays in seconds between attempts, each with ±20 % jitter; after the last, the delivery is dead-lettered.'),
  includeRaw: z.boolean().default(false).describe('Add the platform payload as `raw` to unified events.'),
});

const apiKeySchema = z.object({
  id: z.string().min(1),
  token: z.string().min(16, 'at least 16 characters'),
  channels: z.array(z.string()).min(1).default(['*']).describe('Channel ids this key may send on; "*" for all.'),
});

export const configSchema = z
  .object({
    server: serverSchema,
    storage: storageSchema,
    delivery: deliverySchema,
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
    admin: z
      .object({ token: z.string().min(16, 'at least 16 characters').optional().describe('Bearer token of the management routes. Unset: they answer 401.') })
      .prefault({}),
    channels: z.array(z.discriminatedUnion('platform', channelSchemas)).default([]),
    subscriptions: z.array(subscriptionSchema).default([]),
    apiKeys: z.array(apiKeySchema).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.channels.forEach((channel, index) => {
      if (seen.has(channel.id)) ctx.addIssue({ code: 'custom', path: ['channels', index, 'id'], message: `duplicate channel id "${channel.id}"` });
      seen.add(channel.id);
    });
    const subIds = new Set<string>();
    config.subscriptions.forEach((sub, index) => {
      if (subIds.has(sub.id)) ctx.addIssue({ code: 'custom', path: ['subscriptions', index, 'id'], message: `duplicate subscription id "${sub.id}"` });
      subIds.add(sub.id);
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ChannelConfig = Config['channels'][number];
export type SubscriptionConfig = Config['subscriptions'][number];
export { subscriptionSchema };
