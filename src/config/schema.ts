import { z } from 'zod';
import { channelSchemas } from '../platforms/registry.ts';
import { isValidAllowEntry } from '../core/ip-allow-list.ts';
import { configBoolean, configNumber } from '../core/env-scalars.ts';
import { partialUpdateFields } from './partial-update.ts';

/**
 * The one config schema: the TypeScript types, the defaults, the validation and `docs/config.md`
 * (`npm run docs:config`) all come from it.
 */

/** Seconds: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (docs/config.md, `subscriptions`: `retry.schedule`). */
export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000];

const serverSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1').describe('Address to listen on. Use 0.0.0.0 to accept platform callbacks from outside.'),
    port: configNumber(z.number().int().min(0).max(65535)).default(8080).describe('Port to listen on (0: any free port).'),
    bodyLimitBytes: configNumber(z.number().int().positive())
      .default(1024 * 1024)
      .describe('Largest request body accepted; larger ones get 413.'),
    trustProxies: z
      .array(z.string().refine(isValidAllowEntry, 'not an IP address or CIDR'))
      .default([])
      .describe('Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (for allowIps).'),
    maxPendingIngest: configNumber(z.number().int().positive())
      .default(10000)
      .describe('Inbound events waiting for a commit beyond which callbacks get 503 instead of being accepted.'),
    streamHeartbeatMs: configNumber(z.number().int().min(1000).max(15000))
      .default(15000)
      .describe(
        'How often an idle pull stream gets a keep-alive: an SSE comment line, a WebSocket ping (a client that has not answered the previous ping by then is dropped). Lower it for proxies that close idle connections sooner.',
      ),
    shutdownTimeoutMs: configNumber(z.number().int().positive())
      .default(10000)
      .describe(
        'How long a graceful shutdown waits for in-flight work: sends get half of it, delivery attempts a fifth (2 s at most) before they are aborted and recorded for a retry after the restart.',
      ),
  })
  .prefault({})
  .describe('The HTTP server: platform callbacks, the send API and the management API.');

const storageSchema = z
  .strictObject({
    url: z
      .string()
      .default('sqlite:./data/imgate.db')
      .describe(
        '`sqlite:<path>` (embedded default, created on first start; `sqlite::memory:` for throwaway runs), or `postgres://user:${PGPASSWORD}@host:5432/db` for any number of nodes sharing one database.',
      ),
    retentionHours: configNumber(z.number().int().min(24, 'at least 24: dedup keys must outlive every platform retry'))
      .default(168)
      .describe(
        'Events, deliveries, attempts and sends older than this are purged; an event whose delivery is still being retried stays until it succeeds or is dead-lettered. Dedup keys live as long as their event.',
      ),
    purgeIntervalMinutes: configNumber(z.number().int().positive().max(35_791, 'at most 35791 (24.8 days, the longest timer Node keeps)'))
      .default(60)
      .describe('How often the purge runs.'),
  })
  .prefault({})
  .describe('Where events, deliveries and sends are kept.');

const clusterSchema = z
  .strictObject({
    nodeId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-"')
      .optional()
      .describe('This node\'s name in `/v1/cluster` and on the leases it holds. Unset: host name, process id and a random suffix, new at every start.'),
    takeoverSeconds: configNumber(z.number().min(1).max(600))
      .default(15)
      .describe('When a node dies, another takes over its long connections, pollers and purges within this time.'),
  })
  .prefault({})
  .describe('How nodes sharing one PostgreSQL store divide the work that one node at a time may do.');

export const ROLES = ['http', 'delivery', 'connections'] as const;

const deliverySchema = z
  .strictObject({
    enabled: configBoolean().default(true).describe('Run the delivery worker in this process.'),
    concurrencyPerSubscription: configNumber(z.number().int().positive())
      .default(32)
      .describe(
        'Requests in flight to one subscriber at most; a slow subscriber never holds up the others. The worker starts there, halves it with every failed attempt to that subscriber and adds one back with every success.',
      ),
    pollIntervalMs: configNumber(z.number().int().positive())
      .default(1000)
      .describe('How often due retries and deliveries left by a stopped process are picked up.'),
    denyNetworks: z
      .array(z.string().refine(isValidAllowEntry, 'not an IP address or CIDR'))
      .default([])
      .describe(
        'Addresses or CIDRs imgate never connects to for deliveries, test deliveries and a send\'s `image.url` (e.g. `[169.254.0.0/16, 10.0.0.0/8]`), checked on the address actually connected to, after DNS resolution; an IPv4 range also covers its IPv4-mapped IPv6 spelling (`::ffff:10.1.2.3`) and `::ffff:10.0.0.0/104` is `10.0.0.0/8`. Empty by default, so bots on loopback keep working; `image.url` is public addresses only in any case (docs/security.md).',
      ),
  })
  .prefault({})
  .describe('The worker that sends events to subscribers.');

/** Standard Webhooks secrets are `whsec_` + base64; a typo there would sign with a key no subscriber has. */
const WHSEC = /^whsec_(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
const signingSecret = z
  .string()
  .min(1)
  .refine((secret) => !secret.startsWith('whsec_') || WHSEC.test(secret), 'after "whsec_" the secret must be base64 (Standard Webhooks)');

const subscriptionFields = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-"')
    .describe('Names the subscription in the API and in delivery records.'),
  url: z
    .url({ protocol: /^https?$/, error: 'an http: or https: URL' })
    .optional()
    .describe('Where events are POSTed (every subscription but a pull one): http or https. Credentials in it (`https://user:password@host/`) are sent as HTTP Basic authentication and masked wherever imgate shows the URL.'),
  secret: z
    .union([signingSecret, z.array(signingSecret).min(1).max(2)])
    .optional()
    .describe('Signing secret (every subscription but a pull one); two during a rotation (both signatures are sent with `standard`, the first is used otherwise).'),
  pull: configBoolean()
    .default(false)
    .describe(
      'A pull subscription: no url, no secret; clients read its events over SSE, WebSocket or long polling at `/v1/subscriptions/<id>/stream` and `/events` (docs/pull.md).',
    ),
  signing: z
    .enum(['standard', 'abot', 'padpro'])
    .default('standard')
    .describe('`standard`: Standard Webhooks headers; `abot`: `X-Wechat-Abot-Signature` (OpenClaw); `padpro`: the WeChat webhook guide\'s.'),
  format: z
    .enum(['unified', 'raw'])
    .default('unified')
    .describe('`unified`: the unified event as JSON; `raw`: the bytes the platform sent, unchanged.'),
  channels: z.array(z.string()).optional().describe('Only events of these channels. Unset: all.'),
  messageTypes: z
    .array(z.union([z.string(), z.number().int()]).transform(String))
    .optional()
    .describe('Only these message types: unified names or WeChat numbers (1, 3, 34, 43, 47, 49, 10000, 10002).'),
  includeSelf: configBoolean().default(false).describe("Also deliver the bot account's own messages."),
  groups: z.enum(['all', 'mention', 'none']).default('all').describe('Group messages: all, only those mentioning the bot, none.'),
  enabled: configBoolean().default(true).describe('A disabled subscription gets nothing; a 410 answer disables it, unless it was changed while that attempt ran.'),
  timeoutMs: configNumber(z.number().int().positive().max(60000))
    .default(10000)
    .describe('An attempt that has no answer in this time failed.'),
  retry: z
    .strictObject({
      schedule: z
        .array(configNumber(z.number().nonnegative()))
        .default(DEFAULT_RETRY_SCHEDULE)
        .describe('Delays in seconds between attempts, each with ±20 % jitter; after the last, the delivery is dead-lettered.'),
    })
    .prefault({}),
  includeRaw: configBoolean().default(false).describe('Add the platform payload as `raw` to unified events.'),
  ordering: z
    .enum(['none', 'conversation'])
    .default('none')
    .describe(
      '`conversation`: the events of one conversation arrive in the order stored, each once the previous one succeeded or was dead-lettered (a failing event holds up its conversation until then); different conversations still go in parallel. `none`: no order.',
    ),
});

/** A webhook subscription needs somewhere to POST and a secret to sign with; a pull one has neither. */
function checkWebhookOrPull(sub: { pull: boolean; url?: string; secret?: unknown; format: string }, ctx: z.RefinementCtx): void {
  if (sub.pull) {
    for (const key of ['url', 'secret'] as const) {
      if (sub[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `a pull subscription has no ${key}` });
    }
    if (sub.format === 'raw') ctx.addIssue({ code: 'custom', path: ['format'], message: 'a pull subscription streams unified events' });
    return;
  }
  for (const key of ['url', 'secret'] as const) {
    if (sub[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required (unless pull: true)` });
  }
}

const subscriptionSchema = subscriptionFields.superRefine(checkWebhookOrPull);
/** A subscription posted to the API, whose id imgate picks when it is left out. */
const newSubscriptionSchema = subscriptionFields.extend({ id: subscriptionFields.shape.id.optional() }).superRefine(checkWebhookOrPull);
/**
 * The body of a PATCH: any of the fields, with no defaults filled in, so that what is left out stays
 * as stored. The merged subscription is then checked whole, with subscriptionSchema.
 */
const subscriptionPatchSchema = z.strictObject(partialUpdateFields(subscriptionFields.shape));

const apiKeySchema = z.strictObject({
  id: z.string().min(1).describe('Names the key in logs and idempotency records.'),
  token: z.string().min(16, 'at least 16 characters').describe('The bearer token; kept only as its sha256 in the store.'),
  channels: z.array(z.string()).min(1).default(['*']).describe('Channel ids this key may send on; "*" for all.'),
});

export const configSchema = z
  .strictObject({
    server: serverSchema,
    storage: storageSchema,
    delivery: deliverySchema,
    cluster: clusterSchema,
    roles: z
      .array(z.enum(ROLES))
      .min(1)
      .default([...ROLES])
      .describe(
        'What this node does: `http` serves callbacks and the APIs (without it, only the health routes and `/v1/cluster`), `delivery` sends events to subscribers, `connections` holds long connections and runs pollers and the retention purge (each on one node of the cluster at a time).',
      ),
    log: z
      .strictObject({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('JSON lines on stdout at this level and above.'),
      })
      .prefault({}),
    admin: z
      .strictObject({
        token: z
          .string()
          .min(16, 'at least 16 characters')
          .optional()
          .describe('Bearer token of the management routes. Unset: they answer 401.'),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        token: z
          .string()
          .min(16, 'at least 16 characters')
          .optional()
          .describe('Bearer token `GET /metrics` asks for. Unset: the metrics are open to whoever reaches the port (they name channels and subscriptions, never secrets or users).'),
      })
      .prefault({})
      .describe('Prometheus metrics at `GET /metrics` (docs/operations.md).'),
    channels: z
      .array(z.discriminatedUnion('platform', channelSchemas))
      .default([])
      .describe('The platform accounts imgate receives from and sends through.'),
    subscriptions: z.array(subscriptionSchema).default([]).describe('Where events are delivered (more can be added through the API).'),
    apiKeys: z.array(apiKeySchema).default([]).describe('Who may use the send API.'),
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
export { newSubscriptionSchema, subscriptionPatchSchema, subscriptionSchema };
