import { z } from 'zod';

/**
 * The successful answers of the API, for the document. The handlers build their answers as before
 * (present.ts, describeSubscription), so each schema is exported as a plain z.ZodType: it does not
 * type the handler's return. `test/http/openapi.test.ts` checks real answers against the document.
 */

const isoTime = z.iso.datetime().describe('ISO 8601');

/** A page of a list, newest first; `next` is the `before` of the next page (null: this was the last). */
export function pageOf(item: z.ZodType): z.ZodType {
  return z.object({ data: z.array(item), next: z.string().nullable() });
}

/** A unified event (README, "A short tour"); its fields depend on the platform and the kind of message. */
const event = z
  .looseObject({ id: z.string(), channel: z.string(), platform: z.string(), receivedAt: isoTime })
  .describe('A unified event.');

const attempt = z.object({
  deliveryId: z.string(),
  attempt: z.number().int(),
  startedAt: isoTime,
  latencyMs: z.number(),
  statusCode: z.number().int().nullable(),
  responseBody: z.string().nullable(),
  error: z.string().nullable(),
});

const delivery = z.object({
  id: z.string(),
  eventId: z.string(),
  subscriptionId: z.string(),
  status: z.enum(['pending', 'in_flight', 'succeeded', 'dead']),
  attempts: z.number().int(),
  replayedAtAttempt: z.number().int(),
  nextAttemptAt: isoTime,
  leaseUntil: isoTime.nullable(),
  lastError: z.string().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const eventAnswer: z.ZodType = event;
export const eventWithDeliveries: z.ZodType = event.extend({ deliveries: z.array(delivery) });
export const deliveryAnswer: z.ZodType = delivery;
export const deliveryWithAttempts: z.ZodType = delivery.extend({ attemptLog: z.array(attempt) });

export const subscriptionAnswer: z.ZodType = z.object({
  id: z.string(),
  url: z.string().nullable().describe('Credentials in it masked; null for a pull subscription.'),
  secretCount: z.number().int(),
  signing: z.enum(['standard', 'abot', 'padpro']),
  format: z.enum(['unified', 'raw']),
  channels: z.array(z.string()).nullable(),
  messageTypes: z.array(z.string()).nullable(),
  includeSelf: z.boolean(),
  groups: z.enum(['all', 'mention', 'none']),
  enabled: z.boolean(),
  timeoutMs: z.number().int(),
  retry: z.object({ schedule: z.array(z.number()) }),
  includeRaw: z.boolean(),
  ordering: z.enum(['none', 'conversation']),
  pull: z.boolean(),
  source: z.enum(['config', 'api', 'puppet']),
  createdAt: isoTime,
  updatedAt: isoTime,
  stream: z
    .object({ ackedCursor: z.string().nullable(), headCursor: z.string() })
    .optional()
    .describe("A pull subscription's stream: the last cursor a reader acknowledged and the newest."),
});

export const testDeliveryAnswer: z.ZodType = z.object({
  eventId: z.string(),
  deliveryId: z.string().nullable(),
  attempt: attempt.nullable().describe('The first attempt, made before answering (null without a delivery worker here, or for a pull subscription).'),
});

/** The WeChat webhook guide's envelope. */
export function guideAnswer(data: z.ZodType): z.ZodType {
  return z.object({ Code: z.number().int(), Data: data, Text: z.string() });
}

export const channelsAnswer: z.ZodType = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      platform: z.string(),
      canSend: z.boolean(),
      connected: z.boolean().nullable().describe('Null for a channel without a long connection; this node\'s view.'),
      lastEventAt: isoTime.nullable(),
      lastPullAt: isoTime.nullable().describe('When this node last pulled messages after a notice (channels whose callbacks only announce messages, e.g. WeCom customer service).'),
      lastError: z.object({ at: isoTime, code: z.string(), message: z.string() }).nullable(),
      needsLogin: z.boolean().optional().describe('Channels bound by a QR-code login (wechat-ilink): true until someone logs in, or again once the session ended.'),
      heldBy: z.string().nullable().optional().describe('The node that holds the long connection (channels with one).'),
    }),
  ),
});

export const clusterAnswer: z.ZodType = z.object({
  node: z.string(),
  store: z.enum(['sqlite', 'postgres']),
  now: isoTime,
  nodes: z.array(z.object({ id: z.string(), roles: z.array(z.string()), alive: z.boolean(), startedAt: isoTime, lastHeartbeatAt: isoTime })),
  leases: z.array(z.object({ name: z.string(), holder: z.string(), acquiredAt: isoTime, expiresAt: isoTime })),
});

const loginView = z.object({
  status: z.enum(['wait', 'scanned', 'confirmed', 'expired', 'failed']),
  qrcodeUrl: z.string().nullable().describe('What the QR code encodes, while one is to be scanned.'),
  qrImage: z.string().nullable().describe('The QR code as a PNG data: URL.'),
  message: z.string().nullable(),
  updatedAt: isoTime,
});
export const loginAnswer: z.ZodType = z.object({ login: loginView });
export const loginStateAnswer: z.ZodType = z.object({ login: loginView.nullable().describe('Null when no login was started.') });
