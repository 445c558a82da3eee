import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postWebhook } from '../../src/delivery/post-webhook.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';

describe('postWebhook', () => {
  const silent = new FakeHttpServer(() => ({ status: 200, wait: new Promise<void>(() => undefined) }));
  const busy = new FakeHttpServer(() => ({ status: 503, headers: { 'retry-after': '7' }, body: 'busy' }));

  before(async () => {
    await Promise.all([silent.start(), busy.start()]);
  });

  after(async () => {
    await Promise.all([silent.stop(), busy.stop()]);
  });

  it('returns the answer with its Retry-After', async () => {
    const result = await postWebhook(`${busy.url}/in`, {}, Buffer.from('{}'), 5000, new AbortController().signal);
    assert.equal(result.statusCode, 503);
    assert.equal(result.retryAfter, '7');
    assert.equal(result.responseBody, 'busy');
    assert.equal(result.aborted, false);
  });

  it('sends credentials in the URL as HTTP Basic authentication, not in the request line', async () => {
    const result = await postWebhook(`${busy.url.replace('://', '://bot%40corp:p%3Ass@')}/in?x=1`, {}, Buffer.from('{}'), 5000);
    assert.equal(result.statusCode, 503);
    const received = busy.requests.at(-1);
    assert.equal(received?.url, '/in?x=1');
    assert.equal(received?.headers.authorization, `Basic ${Buffer.from('bot@corp:p:ss').toString('base64')}`);
  });

  it('sends a stray % in URL credentials as written instead of failing', async () => {
    const result = await postWebhook(`${busy.url.replace('://', '://bot:100%@')}/in`, {}, Buffer.from('{}'), 5000);
    assert.equal(result.statusCode, 503);
    assert.equal(busy.requests.at(-1)?.headers.authorization, `Basic ${Buffer.from('bot:100%').toString('base64')}`);
  });

  it('stops waiting when the caller aborts, and says so', async () => {
    const controller = new AbortController();
    const posting = postWebhook(`${silent.url}/in`, {}, Buffer.from('{}'), 60_000, controller.signal);
    await silent.waitForRequests(1);
    controller.abort();
    const result = await posting;
    assert.equal(result.aborted, true);
    assert.equal(result.error, 'aborted');
    assert.equal(result.statusCode, null);
  });

  it('tells a timeout from an abort', async () => {
    const result = await postWebhook(`${silent.url}/in`, {}, Buffer.from('{}'), 200, new AbortController().signal);
    assert.equal(result.aborted, false);
    assert.equal(result.error, 'timed out after 200 ms');
  });

  it('does not send at all once the signal is aborted', async () => {
    const seen = busy.requests.length;
    const result = await postWebhook(`${busy.url}/in`, {}, Buffer.from('{}'), 5000, AbortSignal.abort());
    assert.equal(result.aborted, true);
    assert.equal(busy.requests.length, seen);
  });
});
