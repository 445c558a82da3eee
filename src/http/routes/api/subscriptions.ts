import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { newSubscriptionSchema, subscriptionPatchSchema, subscriptionSchema } from '../../../config/schema.ts';
import { ImgateError } from '../../../core/errors.ts';
import { newId } from '../../../core/ids.ts';
import { describeSubscription, toSubscriptionInput, toSubscriptionRecord, unmaskedUrl } from '../../../subscriptions/from-config.ts';
import type { SubscriptionRecord } from '../../../store/store.ts';
import type { AppContext } from '../../context.ts';
import { etagOf, ifMatchAllows } from '../../if-match.ts';
import { subscriptionAnswer, testDeliveryAnswer } from '../../openapi/answers.ts';
import { ADMIN_TOKEN } from '../../openapi/document.ts';
import { ADMIN_ERRORS, BODY_ERRORS, errorResponses, idParams, noQuery } from '../../openapi/responses.ts';
import { requireAdmin } from '../../plugins/auth.ts';
import { shownAttempt } from '../../present.ts';
import { validate } from '../../validate.ts';
import { sendTestDelivery } from '../../../delivery/test-delivery.ts';

const ifMatchHeader = z.looseObject({
  'if-match': z.string().optional().describe('The ETag of the subscription as read: the change is made only if it is still that one (412 otherwise).'),
});

/** `/v1/subscriptions[/:id]` and `POST /v1/subscriptions/:id/test`. Config-file subscriptions are read-only here. */
export async function subscriptionRoutes(scope: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  // Before the request is validated: without the token, nobody learns what the route takes.
  app.addHook('preValidation', requireAdmin(ctx.config.admin.token, ctx.store));

  async function load(id: string): Promise<SubscriptionRecord> {
    const sub = await ctx.store.getSubscription(id);
    if (!sub) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no subscription "${id}"` });
    return sub;
  }

  /**
   * The subscription a PUT, PATCH or DELETE changes, and the version to change it at: with If-Match,
   * the one read here, which the store's compare-and-set then holds it to; without, none (as before).
   */
  async function loadEditable(id: string, condition: string | undefined): Promise<{ sub: SubscriptionRecord; version: number | undefined }> {
    const sub = await load(id);
    if (sub.source === 'config') {
      throw new ImgateError('IMG_ERR_VALIDATION', { message: `subscription "${sub.id}" comes from the config file; change it there` });
    }
    if (condition === undefined) return { sub, version: undefined };
    if (!ifMatchAllows(condition, sub.updatedAt)) throw changedSince(sub.id);
    return { sub, version: sub.updatedAt };
  }

  /** Stores the subscription (with a version: only while it still has it) and answers it, with its ETag. */
  async function save(record: SubscriptionRecord, reply: FastifyReply, version?: number): Promise<Record<string, unknown>> {
    const stored = version === undefined ? await ctx.store.upsertSubscription(record) : await ctx.store.replaceSubscriptionIf(record, version);
    if (stored === null) throw changedSince(record.id);
    await ctx.subscriptions.load();
    reply.header('etag', etagOf(stored));
    return describeSubscription({ ...record, updatedAt: stored });
  }

  const tags = ['subscriptions'];
  const listed = { security: ADMIN_TOKEN, tags, querystring: noQuery, response: errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION') };
  app.get('/v1/subscriptions', { schema: { ...listed, summary: 'Every subscription', response: { 200: z.object({ data: z.array(subscriptionAnswer) }), ...listed.response } } }, async () => ({
    data: (await ctx.store.listSubscriptions()).map(describeSubscription),
  }));

  const byId = { security: ADMIN_TOKEN, tags, params: idParams, querystring: noQuery };
  const notFound = errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION', 'IMG_ERR_NOT_FOUND');

  // A pull subscription shows where its stream stands: the newest cursor and the last one a reader acknowledged.
  app.get('/v1/subscriptions/:id', { schema: { ...byId, summary: 'A subscription, with its ETag', response: { 200: subscriptionAnswer, ...notFound } } }, async (request, reply) => {
    const sub = await load(request.params.id);
    reply.header('etag', etagOf(sub.updatedAt));
    if (!sub.pull) return describeSubscription(sub);
    const state = await ctx.store.pullState(sub.id);
    return { ...describeSubscription(sub), stream: { ackedCursor: state.acked, headCursor: state.head ?? '0' } };
  });

  const create = { ...listed, summary: 'Create a subscription', body: newSubscriptionSchema, response: { 201: subscriptionAnswer, ...errorResponses(...ADMIN_ERRORS, ...BODY_ERRORS, 'IMG_ERR_ALREADY_EXISTS') } };
  app.post('/v1/subscriptions', { schema: create }, async (request, reply) => {
    const input = request.body;
    const id = input.id ?? newId('sub');
    if (await ctx.store.getSubscription(id)) {
      throw new ImgateError('IMG_ERR_ALREADY_EXISTS', { message: `subscription "${id}" exists: change it with PUT or PATCH /v1/subscriptions/${id}` });
    }
    reply.status(201);
    return save(toSubscriptionRecord({ ...input, id }, 'api', Date.now()), reply);
  });

  /** PUT replaces the whole subscription with `body`; PATCH changes the fields `body` has. */
  async function replace(id: string, condition: string | undefined, reply: FastifyReply, body: object, merge: boolean) {
    const { sub: existing, version } = await loadEditable(id, condition);
    // Rewritten as an `api` subscription it would stop being a puppet and match every event.
    if (existing.source === 'puppet') {
      throw new ImgateError('IMG_ERR_VALIDATION', {
        message: `subscription "${existing.id}" is a registered WXKF puppet; register it again through /puppetWxkfManager/register`,
      });
    }
    const input = validate(subscriptionSchema, { ...(merge ? toSubscriptionInput(existing) : {}), ...body, id: existing.id });
    // A webhook subscription's pending deliveries would have nowhere to go, a pull one's stream no reader.
    if (input.pull !== existing.pull) {
      throw new ImgateError('IMG_ERR_VALIDATION', {
        message: `pull: subscription "${existing.id}" is ${existing.pull ? 'a pull' : 'a webhook'} subscription; create a new one instead`,
      });
    }
    const url = input.url === undefined ? undefined : unmaskedUrl(input.url, existing.url);
    return save(toSubscriptionRecord({ ...input, url }, 'api', Date.now(), existing.createdAt), reply, version);
  }

  const changeErrors = { 200: subscriptionAnswer, ...errorResponses(...ADMIN_ERRORS, ...BODY_ERRORS, 'IMG_ERR_NOT_FOUND', 'IMG_ERR_PRECONDITION_FAILED') };
  const put = { ...byId, summary: 'Replace a subscription', headers: ifMatchHeader, body: newSubscriptionSchema, response: changeErrors };
  app.put('/v1/subscriptions/:id', { schema: put }, async (request, reply) => replace(request.params.id, request.headers['if-match'], reply, request.body, false));
  const patch = { ...byId, summary: 'Change some fields of a subscription', headers: ifMatchHeader, body: subscriptionPatchSchema, response: changeErrors };
  app.patch('/v1/subscriptions/:id', { schema: patch }, async (request, reply) => replace(request.params.id, request.headers['if-match'], reply, request.body, true));

  const remove = {
    ...byId,
    summary: 'Delete a subscription',
    headers: ifMatchHeader,
    response: { 204: z.undefined().describe('Deleted.'), ...errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION', 'IMG_ERR_NOT_FOUND', 'IMG_ERR_PRECONDITION_FAILED') },
  };
  app.delete('/v1/subscriptions/:id', { schema: remove }, async (request, reply) => {
    const { version } = await loadEditable(request.params.id, request.headers['if-match']);
    if (!(await ctx.store.deleteSubscription(request.params.id, version)) && version !== undefined) throw changedSince(request.params.id);
    await ctx.subscriptions.load();
    return reply.status(204).send();
  });

  app.post('/v1/subscriptions/:id/test', { schema: { ...byId, summary: 'Send a test delivery now', response: { 200: testDeliveryAnswer, ...notFound } } }, async (request) => {
    const sub = await load(request.params.id);
    const result = await sendTestDelivery(ctx.store, ctx.worker, sub, (ids) => ctx.pullWakeups.announce(ids));
    return { ...result, attempt: result.attempt && shownAttempt(result.attempt) };
  });
}

function changedSince(id: string): ImgateError {
  return new ImgateError('IMG_ERR_PRECONDITION_FAILED', { message: `subscription "${id}" changed since the version in If-Match; read it again` });
}
