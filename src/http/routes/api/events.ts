import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ImgateError } from '../../../core/errors.ts';
import { shownRaw } from '../../../platforms/shown-raw.ts';
import type { AppContext } from '../../context.ts';
import { requireAdmin } from '../../plugins/auth.ts';
import { shownAttempt, shownDelivery } from '../../present.ts';
import { validate } from '../../validate.ts';

// Strict: a parameter these routes do not know (`?after=`, a typo) is refused rather than ignored.
const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().optional(),
  channel: z.string().optional(),
});

// The events' own filters: the sender's and the conversation's platform ids, a piece of the text.
const filterValue = z.string().min(1, 'empty; leave the parameter out to match every event').optional();
const eventQuerySchema = listQuerySchema.extend({ sender: filterValue, conversation: filterValue, text: filterValue });

const deliveryQuerySchema = listQuerySchema.extend({
  eventId: z.string().optional(),
  subscription: z.string().optional(),
  status: z.enum(['pending', 'in_flight', 'succeeded', 'dead']).optional(),
});

const bulkReplaySchema = z.strictObject({
  status: z.enum(['dead', 'pending']).default('dead'),
  subscription: z.string().optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});

/** A page of a list, newest first, and the `before` of the next page (null: this was the last). */
function page<T extends { id: string }>(data: T[], limit: number, show: (item: T) => unknown = (item) => item): { data: unknown[]; next: string | null } {
  return { data: data.map(show), next: data.length === limit ? (data.at(-1)?.id ?? null) : null };
}

/** What came in (`/v1/events`), what went out (`/v1/deliveries`) and replay. Newest first; page with `before`. */
export async function eventRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addHook('preHandler', requireAdmin(ctx.config.admin.token, ctx.store));

  app.get('/v1/events', async (request) => {
    const query = validate(eventQuerySchema, request.query, 'query');
    return page(await ctx.store.listEvents(query), query.limit);
  });

  app.get<{ Params: { id: string } }>('/v1/events/:id', async (request) => {
    const stored = await ctx.store.getEvent(request.params.id);
    if (!stored) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no event "${request.params.id}"` });
    const deliveries = await ctx.store.listDeliveries({ limit: 100, eventId: stored.event.id });
    return { ...stored.event, raw: shownRaw(stored.event.platform, stored.raw), deliveries: deliveries.map(shownDelivery) };
  });

  app.get('/v1/deliveries', async (request) => {
    const { subscription, ...query } = validate(deliveryQuerySchema, request.query, 'query');
    return page(await ctx.store.listDeliveries({ ...query, subscriptionId: subscription }), query.limit, shownDelivery);
  });

  // Bulk replay: every dead letter (or pending delivery) of a subscription, or of all, since a time.
  app.post('/v1/deliveries/replay', async (request) => {
    const filter = validate(bulkReplaySchema, request.body);
    const replayed = await ctx.store.replayDeliveries({
      status: filter.status,
      subscriptionId: filter.subscription,
      since: filter.since === undefined ? undefined : Date.parse(filter.since),
    });
    // Woken rather than handed the ids: the poll takes a long list page by page.
    if (replayed.length > 0) {
      if (ctx.worker) ctx.worker.wake();
      else await ctx.store.notify('deliveries', ctx.node.id);
    }
    return { replayed: replayed.length };
  });

  app.get<{ Params: { id: string } }>('/v1/deliveries/:id', async (request) => {
    const delivery = await ctx.store.getDelivery(request.params.id);
    if (!delivery) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no delivery "${request.params.id}"` });
    return { ...shownDelivery(delivery), attemptLog: (await ctx.store.listAttempts(delivery.id)).map(shownAttempt) };
  });

  app.post<{ Params: { id: string } }>('/v1/deliveries/:id/replay', async (request, reply) => {
    const { id } = request.params;
    const outcome = await ctx.store.replayDelivery(id);
    if (outcome === 'not_found') throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no delivery "${id}"` });
    if (outcome === 'in_flight') throw new ImgateError('IMG_ERR_DELIVERY_IN_FLIGHT');
    const delivery = await ctx.store.getDelivery(id);
    if (delivery) ctx.worker?.notify([delivery]);
    reply.status(202);
    return delivery && shownDelivery(delivery);
  });
}
