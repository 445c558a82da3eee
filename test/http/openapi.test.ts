import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call } from '../helpers/http.ts';

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } }> }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** Every route the gateway registers, seen through fastify's onRoute hook on the gateway's own instance. */
function collectRoutes(): { routes: { method: string; url: string }[]; stop: () => void } {
  const routes: { method: string; url: string }[] = [];
  // Fastify announces each new instance on this channel (its documented hook for instrumentation).
  const onInit = (message: unknown) => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
  };
  diagnostics.subscribe('fastify.initialization', onInit);
  return { routes, stop: () => diagnostics.unsubscribe('fastify.initialization', onInit) };
}

const DOCUMENTED = (url: string) => url.startsWith('/v1/') || url === '/api/channels/:channelId/messages/send';
const openApiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

describe('GET /openapi.json', () => {
  let gw: TestGateway;
  let routes: { method: string; url: string }[];
  let doc: Document;

  before(async () => {
    const collected = collectRoutes();
    try {
      gw = await startTestGateway({});
    } finally {
      collected.stop();
    }
    routes = collected.routes;
    const answer = await call('GET', `${gw.url}/openapi.json`);
    assert.equal(answer.status, 200, 'served without credentials');
    doc = answer.json as Document;
  });
  after(async () => {
    await gw.close();
    removeDir(gw.dir);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    assert.deepEqual(result.errors ?? [], []);
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
  });

  it('has every registered /v1 route and both send routes, and nothing else', () => {
    const registered = routes.filter((route) => route.method !== 'HEAD' && DOCUMENTED(route.url));
    assert.ok(registered.length >= 20, `only ${registered.length} routes seen`);
    for (const route of registered) {
      assert.ok(doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()], `${route.method} ${route.url} is missing`);
    }
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    assert.deepEqual(documented.sort(), [...new Set(registered.map((route) => `${route.method} ${openApiPath(route.url)}`))].sort());
  });

  it('gives each route its credential and its errors in the shape and with the statuses of the catalogue', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(operation.security && operation.security.length > 0, `${where} names its credential`);
        for (const status of ['400', '401', '500', '503']) {
          const codes = operation.responses[status]?.content?.['application/json']?.schema.properties?.error?.properties?.code?.enum;
          assert.ok(codes && codes.length > 0, `${where} documents its ${status} with error codes`);
        }
      }
    }
    const put = doc.paths['/v1/subscriptions/{id}']?.put;
    assert.deepEqual(put?.responses['412']?.content?.['application/json']?.schema.properties?.error?.properties?.code?.enum, ['IMG_ERR_PRECONDITION_FAILED']);
    assert.ok(put?.parameters?.some((parameter) => parameter.in === 'header' && parameter.name === 'if-match'));
    const send = doc.paths['/v1/messages']?.post;
    assert.deepEqual(send?.security, [{ apiKey: [] }]);
    assert.ok(send?.requestBody, 'the send body is documented');
    assert.ok(send?.responses['429'] && send.responses['422'] && send.responses['409']);
    const deliveries = doc.paths['/v1/deliveries']?.get;
    assert.deepEqual(
      deliveries?.parameters?.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
      ['limit', 'before', 'channel', 'eventId', 'subscription', 'status'],
    );
  });

  it('refuses a query parameter no route knows on every route of imgate’s own API, naming it', async () => {
    // Bodies that pass, so that the query is what is refused (fastify checks the body first).
    const bodies: Record<string, object> = {
      'POST /v1/messages': { channel: 'nowhere', to: 'someone', text: 'hi' },
      'POST /v1/subscriptions': { url: 'https://bot.example.com/hook', secret: 'a-long-enough-secret' },
      'PUT /v1/subscriptions/{id}': { url: 'https://bot.example.com/hook', secret: 'a-long-enough-secret' },
    };
    // The compatible routes take what their own clients send (docs/api.md).
    const own = Object.entries(doc.paths).filter(([path]) => !path.startsWith('/v1/webhook/') && !path.startsWith('/api/'));
    let checked = 0;
    for (const [path, operations] of own) {
      for (const method of Object.keys(operations)) {
        const key = `${method.toUpperCase()} ${path}`;
        const url = `${gw.url}${path.replace('{id}', 'some-id')}?bogus=1`;
        const token = path === '/v1/messages' ? API_TOKEN : undefined;
        const body = bodies[key] ?? (method === 'get' || method === 'delete' ? undefined : {});
        const answer = token
          ? await call(method.toUpperCase() as 'POST', url, { token, body })
          : await admin(method.toUpperCase() as 'GET', url, body);
        assert.equal(answer.status, 400, `${key}: ${answer.text}`);
        assert.equal(answer.json.error.code, 'IMG_ERR_VALIDATION');
        assert.equal(answer.json.error.message, 'query: Unrecognized key: "bogus"', key);
        checked += 1;
      }
    }
    assert.ok(checked >= 18, `only ${checked} routes checked`);
  });

  it('describes the answers the gateway really gives (each checked with Ajv against the document)', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const seen = new Set<string>();
    const check = async (method: 'GET' | 'POST' | 'PATCH', path: string, answered: Promise<{ status: number; json: unknown; text: string }>) => {
      const answer = await answered;
      const response = doc.paths[path]?.[method.toLowerCase()]?.responses[String(answer.status)];
      assert.ok(response?.content, `${method} ${path} documents no ${answer.status}: ${answer.text}`);
      const validate = ajv.compile(response.content['application/json']?.schema as object);
      assert.ok(validate(answer.json), `${method} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)} in ${answer.text}`);
      seen.add(`${method} ${path} ${answer.status}`);
      return answer.json as Record<string, any>;
    };
    const url = gw.url;
    // A subscriber that refuses connections: the test delivery fails at once, with nothing sent anywhere.
    const created = await check('POST', '/v1/subscriptions', admin('POST', `${url}/v1/subscriptions`, { url: 'http://127.0.0.1:1/hook', secret: 'a-long-enough-secret' }));
    await check('GET', '/v1/subscriptions/{id}', admin('GET', `${url}/v1/subscriptions/${created.id}`));
    await check('PATCH', '/v1/subscriptions/{id}', admin('PATCH', `${url}/v1/subscriptions/${created.id}`, { groups: 'mention' }));
    await check('GET', '/v1/subscriptions', admin('GET', `${url}/v1/subscriptions`));
    const tested = await check('POST', '/v1/subscriptions/{id}/test', admin('POST', `${url}/v1/subscriptions/${created.id}/test`));
    await check('GET', '/v1/events', admin('GET', `${url}/v1/events`));
    await check('GET', '/v1/events/{id}', admin('GET', `${url}/v1/events/${tested.eventId}`));
    await check('GET', '/v1/deliveries', admin('GET', `${url}/v1/deliveries?limit=1`));
    await check('GET', '/v1/deliveries/{id}', admin('GET', `${url}/v1/deliveries/${tested.deliveryId}`));
    await check('POST', '/v1/deliveries/replay', admin('POST', `${url}/v1/deliveries/replay`, {}));
    await check('GET', '/v1/channels', admin('GET', `${url}/v1/channels`));
    await check('GET', '/v1/cluster', admin('GET', `${url}/v1/cluster`));
    await check('GET', '/v1/events/{id}', admin('GET', `${url}/v1/events/no-such-event`));
    await check('GET', '/v1/events', call('GET', `${url}/v1/events`));
    await check('POST', '/v1/messages', call('POST', `${url}/v1/messages`, { token: API_TOKEN, body: { channel: 'nowhere', to: 'someone', text: 'hi' } }));
    await check('POST', '/v1/messages', call('POST', `${url}/v1/messages`, { token: API_TOKEN, body: { channel: 'nowhere', to: 'someone' } }));
    assert.equal(seen.size, 16, [...seen].join(', '));
  });

  it('checks the credential before the request: no token, no word about the body', async () => {
    const answer = await call('POST', `${gw.url}/v1/subscriptions?bogus=1`, { body: { url: 'not a url' } });
    assert.equal(answer.status, 401);
    assert.equal(answer.json.error.code, 'IMG_ERR_AUTH_MISSING');
    const send = await call('POST', `${gw.url}/v1/messages`, { body: {} });
    assert.equal(send.status, 401);
  });
});
