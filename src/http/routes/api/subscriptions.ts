import type { FastifyInstance } from 'fastify';
import { newSubscriptionSchema, subscriptionSchema } from '../../../config/schema.ts';
import { ImgateError } from '../../../core/errors.ts';
import { newId } from '../../../core/ids.ts';
import { describeSubscription, toSubscriptionInput, toSubscriptionRecord, unmaskedUrl } from '../../../subscriptions/from-config.ts';
import type { SubscriptionRecord } from '../../../store/store.ts';
import type { AppContext } from '../../context.ts';
import { requireAdmin } from '../../plugins/auth.ts';
import { shownAttempt } from '../../present.ts';
import { validate } from '../../validate.ts';
import { sendTestDelivery } from '../../../delivery/test-delivery.ts';

/** `/v1/subscriptions[/:id]` and `POST /v1/subscriptions/:id/test`. Config-file subscriptions are read-only here. */
export async function subscriptionRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addHook('preHandler', requireAdmin(ctx.config.admin.token, ctx.store));

  async function load(id: string): Promise<SubscriptionRecord> {
    const sub = await ctx.store.getSubscription(id);
    if (!sub) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no subscription "${id}"` });
    return sub;
  }

  async function loadEditable(id: string): Promise<SubscriptionRecord> {
    const sub = await load(id);
    if (sub.source === 'config') {
      throw new ImgateError('IMG_ERR_VALIDATION', { message: `subscription "${id}" comes from the config file; change it there` });
    }
    return sub;
  }

  async function save(record: SubscriptionRecord): Promise<Record<string, unknown>> {
    await ctx.store.upsertSubscription(record);
    await ctx.subscriptions.load();
    return describeSubscription(record);
  }

  app.get('/v1/subscriptions', async () => ({ data: (await ctx.store.listSubscriptions()).map(describeSubscription) }));

  // A pull subscription shows where its stream stands: the newest cursor and the last one a reader acknowledged.
  app.get<{ Params: { id: string } }>('/v1/subscriptions/:id', async (request) => {
    const sub = await load(request.params.id);
    if (!sub.pull) return describeSubscription(sub);
    const state = await ctx.store.pullState(sub.id);
    return { ...describeSubscription(sub), stream: { ackedCursor: state.acked, headCursor: state.head ?? '0' } };
  });

  app.post('/v1/subscriptions', async (request, reply) => {
    const input = validate(newSubscriptionSchema, request.body);
    const id = input.id ?? newId('sub');
    if (await ctx.store.getSubscription(id)) {
      throw new ImgateError('IMG_ERR_ALREADY_EXISTS', { message: `subscription "${id}" exists: change it with PUT or PATCH /v1/subscriptions/${id}` });
    }
    reply.status(201);
    return save(toSubscriptionRecord({ ...input, id }, 'api', Date.now()));
  });

  /** PUT replaces the whole subscription with `body`; PATCH changes the fields `body` has. */
  async function replace(id: string, body: unknown, merge: boolean): Promise<Record<string, unknown>> {
    const existing = await loadEditable(id);
    // Rewritten as an `api` subscription it would stop being a puppet and match every event.
    if (existing.source === 'puppet') {
      throw new ImgateError('IMG_ERR_VALIDATION', {
        message: `subscription "${existing.id}" is a registered WXKF puppet; register it again through /puppetWxkfManager/register`,
      });
    }
    const sent = (body ?? {}) as Record<string, unknown>;
    const input = validate(subscriptionSchema, { ...(merge ? toSubscriptionInput(existing) : {}), ...sent, id: existing.id });
    // A webhook subscription's pending deliveries would have nowhere to go, a pull one's stream no reader.
    if (input.pull !== existing.pull) {
      throw new ImgateError('IMG_ERR_VALIDATION', {
        message: `pull: subscription "${existing.id}" is ${existing.pull ? 'a pull' : 'a webhook'} subscription; create a new one instead`,
      });
    }
    const url = input.url === undefined ? undefined : unmaskedUrl(input.url, existing.url);
    return save(toSubscriptionRecord({ ...input, url }, 'api', Date.now(), existing.createdAt));
  }

  app.put<{ Params: { id: string } }>('/v1/subscriptions/:id', async (request) => replace(request.params.id, request.body, false));
  app.patch<{ Params: { id: string } }>('/v1/subscriptions/:id', async (request) => replace(request.params.id, request.body, true));

  app.delete<{ Params: { id: string } }>('/v1/subscriptions/:id', async (request, reply) => {
    await loadEditable(request.params.id);
    await ctx.store.deleteSubscription(request.params.id);
    await ctx.subscriptions.load();
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/v1/subscriptions/:id/test', async (request) => {
    const sub = await load(request.params.id);
    const result = await sendTestDelivery(ctx.store, ctx.worker, sub, (ids) => ctx.pullWakeups.announce(ids));
    return { ...result, attempt: result.attempt && shownAttempt(result.attempt) };
  });
}
