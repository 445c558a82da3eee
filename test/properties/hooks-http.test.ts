import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { request } from 'undici';
import { buildWechatPadSample } from '../../src/platforms/wechat-pad/simulate.ts';
import { ADMIN_TOKEN, startTestGateway, removeDir, type TestGateway } from '../helpers/gateway.ts';
import { eventsOf, padproHeaders } from '../helpers/http.ts';
import { WECOM_KEYS } from '../helpers/wecom.ts';
import { channel } from '../platforms/wechat-pad/helpers.ts';
import { RUNS } from './arbitraries.ts';

/*
 * The HTTP layer in front of the adapters, on the real gateway (loopback, a real SQLite file):
 * `/hooks/:channel[/:pathToken]` for several platforms, the WXKF manager's `/callback/:corpId`
 * and `/puppetWxkfManager/*` routes (with and without the admin token), unknown channels, and the
 * body limit. Any method, path, query, headers and body: never
 * a 5xx, nothing stored, and the gateway still serves and stores a valid callback afterwards.
 */

const SECRET = 'hooks-property-secret';
const BODY_LIMIT = 4096;
/** A closed port: no adapter reaches a platform from this test. */
const NOWHERE = 'http://127.0.0.1:9';

const PATHS = [
  '/hooks/wx',
  '/hooks/wx/extra-segment',
  '/hooks/wx-token/t0ken-property-0123',
  '/hooks/qq',
  '/hooks/ding',
  '/hooks/robot',
  '/hooks/kf',
  '/hooks/no-such-channel',
  `/callback/${WECOM_KEYS.corpId}`,
  '/callback/no-such-corp',
  `/callback/decrypted/${WECOM_KEYS.corpId}`,
  '/puppetWxkfManager/register',
  '/puppetWxkfManager/deregister',
  '/puppetWxkfManager/getToken',
];
const HEADER_NAMES = ['timestamp', 'sign', 'x-webhook-timestamp', 'x-webhook-signature', 'x-wechat-abot-signature', 'x-signature-ed25519', 'x-signature-timestamp', 'x-lark-signature', 'authorization', 'x-forwarded-for'];
/** What a client can put in a header value on the wire. */
const headerValue = fc.oneof(fc.stringMatching(/^[\x21-\x7e]{0,40}$/), fc.constant(String(Date.now())), fc.stringMatching(/^[0-9a-f]{128}$/), fc.constant('Bearer x'), fc.constant(`Bearer ${ADMIN_TOKEN}`));
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/xml', 'application/xml', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'x/y; a=');

const requests = fc.record({
  method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
  path: fc.constantFrom(...PATHS),
  query: fc.stringMatching(/^[A-Za-z0-9%=&+._~-]{0,60}$/),
  headers: fc.dictionary(fc.constantFrom(...HEADER_NAMES), headerValue, { maxKeys: 5 }),
  contentType: fc.option(contentType, { nil: undefined }),
  body: fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.json({ maxDepth: 3 }).map((text) => Buffer.from(text)),
    fc
      .constantFrom('<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>', '{"op":13,"d":{"plain_token":"a","event_ts":"1"}}', '{"op":0,"t":"C2C_MESSAGE_CREATE","d":{}}', '{"token":"x","openKfId":"wk"}', '{"kfId":"wk","corpId":{"toString":1}}', '{"kfId":"wk","endpoint":"ftp://x"}')
      .map((text) => Buffer.from(text)),
    // Beyond the body limit: 413.
    fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }).map((size) => Buffer.alloc(size, 0x7b)),
  ),
});

describe('property: the HTTP layer in front of the adapters', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway({
      server: { bodyLimitBytes: BODY_LIMIT },
      channels: [
        { id: 'wx', platform: 'wechat-pad', secret: SECRET },
        { id: 'wx-token', platform: 'wechat-pad', auth: 'path-token', pathToken: 't0ken-property-0123' },
        { id: 'qq', platform: 'qq', appId: '102000001', secret: 'qqPropertySecret0123456789', apiBase: NOWHERE, tokenBase: NOWHERE },
        { id: 'ding', platform: 'dingtalk', appKey: 'dingpropertykey', appSecret: 'ding-property-secret', apiBase: NOWHERE },
        { id: 'robot', platform: 'wecom-robot', token: WECOM_KEYS.token, encodingAESKey: WECOM_KEYS.encodingAESKey, apiBase: NOWHERE },
        {
          id: 'kf',
          platform: 'wecom-kf',
          corpId: WECOM_KEYS.corpId,
          corpSecret: 'kf-property-secret',
          token: WECOM_KEYS.token,
          encodingAESKey: WECOM_KEYS.encodingAESKey,
          apiBase: NOWHERE,
          pollIntervalSeconds: 0,
        },
      ],
      subscriptions: [{ id: 'sink', pull: true, channels: ['*'] }],
    });
  });

  after(async () => {
    await gw.close();
    removeDir(gw.dir);
  });

  it('answers any request to /hooks and /callback below 500, stores nothing, and still serves afterwards', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requests, async (r) => {
        const headers: Record<string, string> = { ...r.headers };
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        const withBody = r.method !== 'GET';
        const answer = await request(`${gw.url}${r.path}${r.query === '' ? '' : `?${r.query}`}`, { method: r.method, headers, body: withBody ? r.body : undefined });
        const text = await answer.body.text();
        statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
        assert.ok(answer.statusCode < 500, `${r.method} ${r.path}: ${answer.statusCode} ${text}`);
        // A callback route that takes the method reads the raw body first (/hooks takes every method, /callback GET and POST);
        // the JSON routes of /puppetWxkfManager may refuse the content type before.
        const routed = r.path.startsWith('/hooks/') || (r.path.startsWith('/callback/') && r.method === 'POST');
        if (withBody && routed && r.body.length > BODY_LIMIT) assert.equal(answer.statusCode, 413, text);
      }),
      { numRuns: RUNS.fuzz },
    );
    // Refusals of several kinds, so the requests reached past routing (401 signatures, 400 bodies, 404, 405, 413).
    assert.ok(statuses.size >= 4, `statuses seen: ${JSON.stringify([...statuses])}`);

    assert.equal((await request(`${gw.url}/readyz`)).statusCode, 200);
    assert.deepEqual(await eventsOf(gw.url), [], 'nothing was stored');
    assert.ok(!gw.logText().includes('IMG_ERR_INTERNAL'), 'no internal error was logged');

    // A valid callback after all that is taken and stored.
    const sample = buildWechatPadSample(channel({ auth: 'none' }), { format: 'pad' });
    const answer = await request(`${gw.url}/hooks/wx`, { method: 'POST', headers: { 'content-type': 'application/json', ...padproHeaders(SECRET, sample.body) }, body: sample.body });
    assert.equal(answer.statusCode, 200, await answer.body.text());
    assert.equal((await eventsOf(gw.url)).length, 1);
  });
});
