import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ImgateError } from '../../../core/errors.ts';
import { shownRaw } from '../../../platforms/shown-raw.ts';
import type { AppContext } from '../../context.ts';
import { deliveryAnswer, deliveryWithAttempts, eventAnswer, eventWithDeliveries, pageOf } from '../../openapi/answers.ts';
import { ADMIN_TOKEN } from '../../openapi/document.ts';
import { ADMIN_ERRORS, BODY_ERRORS, errorResponses, idParams, noQuery } from '../../openapi/responses.ts';
import { requireAdmin } from '../../plugins/auth.ts';
import { shownAttempt, shownDelivery } from '../../present.ts';

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
export async function eventRoutes(scope: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  // Before the request is validated: without the token, nobody learns what the route takes.
  app.addHook('preValidation', requireAdmin(ctx.config.admin.token, ctx.store));
  const notFound = errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION', 'IMG_ERR_NOT_FOUND');

  const listErrors = errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION');
  const listEvents = {
    security: ADMIN_TOKEN,
    tags: ['events'],
    summary: 'Stored events, newest first',
    querystring: eventQuerySchema,
    response: { 200: pageOf(eventAnswer), ...listErrors },
  };

  app.get('/v1/events', { schema: listEvents }, async (request) => {
    const { query } = request;
    return page(await ctx.store.listEvents(query), query.limit);
  });

  const byId = (tag: string, summary: string, answer: z.ZodType) => ({
    security: ADMIN_TOKEN,
    tags: [tag],
    summary,
    params: idParams,
    querystring: noQuery,
    response: { 200: answer, ...notFound },
  });

  app.get('/v1/events/:id', { schema: byId('events', 'An event with its raw payload and its deliveries', eventWithDeliveries) }, async (request) => {
    const stored = await ctx.store.getEvent(request.params.id);
    if (!stored) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no event "${request.params.id}"` });
    const deliveries = await ctx.store.listDeliveries({ limit: 100, eventId: stored.event.id });
    return { ...stored.event, raw: shownRaw(stored.event.platform, stored.raw), deliveries: deliveries.map(shownDelivery) };
  });

  const listDeliveries = {
    security: ADMIN_TOKEN,
    tags: ['deliveries'],
    summary: 'Deliveries, newest first',
    querystring: deliveryQuerySchema,
    response: { 200: pageOf(deliveryAnswer), ...listErrors },
  };
  app.get('/v1/deliveries', { schema: listDeliveries }, async (request) => {
    const { subscription, ...query } = request.query;
    return page(await ctx.store.listDeliveries({ ...query, subscriptionId: subscription }), query.limit, shownDelivery);
  });

  // Bulk replay: every dead letter (or pending delivery) of a subscription, or of all, since a time.
  const bulkReplay = {
    security: ADMIN_TOKEN,
    tags: ['deliveries'],
    summary: 'Replay every dead (or pending) delivery that matches a filter',
    querystring: noQuery,
    body: bulkReplaySchema,
    response: { 200: z.object({ replayed: z.number().int() }), ...errorResponses(...ADMIN_ERRORS, ...BODY_ERRORS) },
  };
  app.post('/v1/deliveries/replay', { schema: bulkReplay }, async (request) => {
    const filter = request.body;
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

  app.get('/v1/deliveries/:id', { schema: byId('deliveries', 'A delivery with its attempt log', deliveryWithAttempts) }, async (request) => {
    const delivery = await ctx.store.getDelivery(request.params.id);
    if (!delivery) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no delivery "${request.params.id}"` });
    return { ...shownDelivery(delivery), attemptLog: (await ctx.store.listAttempts(delivery.id)).map(shownAttempt) };
  });

  const replayOne = {
    ...byId('deliveries', 'Replay a delivery', deliveryAnswer),
    response: { 202: deliveryAnswer, ...errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION', 'IMG_ERR_NOT_FOUND', 'IMG_ERR_DELIVERY_IN_FLIGHT') },
  };
  app.post('/v1/deliveries/:id/replay', { schema: replayOne }, async (request, reply) => {
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
