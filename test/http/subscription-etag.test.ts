import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call } from '../helpers/http.ts';

describe('If-Match on /v1/subscriptions/:id', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({});
  });
  after(async () => {
    await gw.close();
    removeDir(gw.dir);
  });

  const withIfMatch = (method: 'PUT' | 'PATCH' | 'DELETE', id: string, ifMatch: string, body?: object) =>
    call(method, `${gw.url}/v1/subscriptions/${id}`, { token: ADMIN_TOKEN, body, headers: { 'if-match': ifMatch } });

  async function create(id: string): Promise<string> {
    const created = await admin('POST', `${gw.url}/v1/subscriptions`, { id, url: 'https://bot.example.com/hook', secret: 'a-long-enough-secret' });
    assert.equal(created.status, 201);
    const etag = created.headers.etag as string;
    assert.match(etag, /^"\d+"$/);
    return etag;
  }

  it('gives the ETag of the stored version on GET and on each answer of a change', async () => {
    const etag = await create('etag-answers');
    assert.equal((await admin('GET', `${gw.url}/v1/subscriptions/etag-answers`)).headers.etag, etag);
    const patched = await admin('PATCH', `${gw.url}/v1/subscriptions/etag-answers`, { enabled: false });
    assert.equal(patched.status, 200);
    assert.notEqual(patched.headers.etag, etag, 'a change, even within the same millisecond, moves the ETag');
    assert.equal((await admin('GET', `${gw.url}/v1/subscriptions/etag-answers`)).headers.etag, patched.headers.etag);
    const put = await admin('PUT', `${gw.url}/v1/subscriptions/etag-answers`, { url: 'https://bot.example.com/v2', secret: 'a-long-enough-secret' });
    assert.notEqual(put.headers.etag, patched.headers.etag);
  });

  it('changes a subscription when If-Match is its ETag, and answers 412 once someone else changed it', async () => {
    const read = await create('etag-stale');
    const first = await withIfMatch('PATCH', 'etag-stale', read, { groups: 'mention' });
    assert.equal(first.status, 200);
    assert.equal(first.json.groups, 'mention');

    for (const [method, body] of [['PATCH', { groups: 'none' }], ['PUT', { url: 'https://bot.example.com/lost', secret: 'a-long-enough-secret' }], ['DELETE', undefined]] as const) {
      const stale = await withIfMatch(method, 'etag-stale', read, body);
      assert.equal(stale.status, 412, `${method}: ${stale.text}`);
      assert.equal(stale.json.error.code, 'IMG_ERR_PRECONDITION_FAILED');
      assert.match(stale.json.error.message, /subscription "etag-stale" changed since the version in If-Match/);
    }
    const now = await admin('GET', `${gw.url}/v1/subscriptions/etag-stale`);
    assert.equal(now.json.groups, 'mention', 'nothing of a refused change was stored');
    assert.equal(now.json.url, 'https://bot.example.com/hook');

    assert.equal((await withIfMatch('DELETE', 'etag-stale', `W/${first.headers.etag as string}`)).status, 412, 'a weak ETag never matches');
    assert.equal((await withIfMatch('DELETE', 'etag-stale', `"1", ${first.headers.etag as string}`)).status, 204, 'one of a list matches');
    assert.equal((await admin('GET', `${gw.url}/v1/subscriptions/etag-stale`)).status, 404);
  });

  it('takes * for any version, and answers 404, not 412, for a subscription that does not exist', async () => {
    await create('etag-any');
    assert.equal((await withIfMatch('PATCH', 'etag-any', '*', { enabled: false })).status, 200);
    assert.equal((await withIfMatch('PATCH', 'etag-nowhere', '*', { enabled: false })).status, 404);
  });

  it('lets exactly one of two changes made with the same ETag through', async () => {
    for (let round = 0; round < 5; round += 1) {
      const id = `etag-race-${round}`;
      const read = await create(id);
      const answers = await Promise.all(['all', 'mention', 'none', 'mention'].map((groups) => withIfMatch('PATCH', id, read, { groups })));
      const statuses = answers.map((answer) => answer.status).sort();
      assert.deepEqual(statuses, [200, 412, 412, 412], `round ${round}`);
      const winner = answers.find((answer) => answer.status === 200);
      const stored = await admin('GET', `${gw.url}/v1/subscriptions/${id}`);
      assert.equal(stored.json.groups, winner?.json.groups);
      assert.equal(stored.headers.etag, winner?.headers.etag);
    }
  });

  it('behaves as before without If-Match: the last write wins', async () => {
    await create('etag-none');
    assert.equal((await admin('PATCH', `${gw.url}/v1/subscriptions/etag-none`, { groups: 'none' })).status, 200);
    assert.equal((await admin('PATCH', `${gw.url}/v1/subscriptions/etag-none`, { groups: 'mention' })).status, 200);
    assert.equal((await admin('DELETE', `${gw.url}/v1/subscriptions/etag-none`)).status, 204);
  });
});
