import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ImgateError } from '../../../core/errors.ts';
import { shownRaw } from '../../../platforms/shown-raw.ts';
import type { AppContext } from '../../context.ts';
import { requireAdmin } from '../../plugins/auth.ts';
import { validate } from '../../validate.ts';

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().optional(),
  channel: z.string().optional(),
});

const deliveryQuerySchema = listQuerySchema.extend({
  eventId: z.string().optional(),
  status: z.enum(['pending', 'in_flight', 'succeeded', 'dead']).optional(),
});

/** What came in (`/v1/events`), what went out (`/v1/deliveries`) and replay. Newest first; page with `before`. */
export async function eventRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addHook('preHandler', requireAdmin(ctx.config.admin.token, ctx.store));

  app.get('/v1/events', async (request) => ({ data: await ctx.store.listEvents(validate(listQuerySchema, request.query)) }));

  app.get<{ Params: { id: string } }>('/v1/events/:id', async (request) => {
    const stored = await ctx.store.getEvent(request.params.id);
    if (!stored) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no event "${request.params.id}"` });
    const deliveries = await ctx.store.listDeliveries({ limit: 100, eventId: stored.event.id });
    return { ...stored.event, raw: shownRaw(stored.event.platform, stored.raw), deliveries };
  });

  app.get('/v1/deliveries', async (request) => ({
    data: await ctx.store.listDeliveries(validate(deliveryQuerySchema, request.query)),
  }));

  app.get<{ Params: { id: string } }>('/v1/deliveries/:id', async (request) => {
    const delivery = await ctx.store.getDelivery(request.params.id);
    if (!delivery) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no delivery "${request.params.id}"` });
    return { ...delivery, attemptLog: await ctx.store.listAttempts(delivery.id) };
  });

  app.post<{ Params: { id: string } }>('/v1/deliveries/:id/replay', async (request, reply) => {
    const { id } = request.params;
    const outcome = await ctx.store.replayDelivery(id);
    if (outcome === 'not_found') throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no delivery "${id}"` });
    if (outcome === 'in_flight') throw new ImgateError('IMG_ERR_DELIVERY_IN_FLIGHT');
    const delivery = await ctx.store.getDelivery(id);
    if (delivery) ctx.worker?.notify([delivery]);
    reply.status(202);
    return delivery;
  });
}
