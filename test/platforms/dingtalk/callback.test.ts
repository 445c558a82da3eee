import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dingtalk } from '../../../src/platforms/dingtalk/index.ts';
import { capturingLogger, testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { failsWith } from '../../helpers/errors.ts';
import { APP_SECRET, SESSION, adapterFor, callbackBody, channel, onlyEvent, request } from './helpers.ts';

describe('dingtalk callbacks', () => {
  it('takes a signed callback as one event, answering 200 {"msgtype":"empty"} (no synchronous reply)', async () => {
    const outcome = await adapterFor(channel()).handleCallback(request(callbackBody()));
    const event = onlyEvent(outcome);
    assert.equal(event.message.text, 'what is the build status? @lisi');
    assert.equal(outcome.kind === 'events' && outcome.ack.status, 200);
    assert.deepEqual(outcome.kind === 'events' && outcome.ack.body, { msgtype: 'empty' });
    assert.equal(outcome.kind === 'events' && outcome.ack.contentType, 'application/json');
  });

  it('answers other methods with 405 IMG_ERR_INBOUND_METHOD', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      await assert.rejects(
        async () => adapterFor(channel()).handleCallback(request(callbackBody(), { method })),
        failsWith('IMG_ERR_INBOUND_METHOD', (e) => assert.equal(e.status, 405)),
      );
    }
  });

  it('refuses a bad sign with 401 before reading the body', async () => {
    await assert.rejects(
      async () => adapterFor(channel()).handleCallback(request('{not json', { secret: 'wrong' })),
      failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (e) => assert.equal(e.status, 401)),
    );
  });

  it('refuses a stale timestamp with 401, and takes it with a wider timestampWindowSeconds', async () => {
    const timestamp = Date.now() - 2 * 3600_000;
    await assert.rejects(async () => adapterFor(channel()).handleCallback(request(callbackBody(), { timestamp })), failsWith('IMG_ERR_INBOUND_STALE_TIMESTAMP'));
    const lenient = adapterFor(channel({ timestampWindowSeconds: 3 * 3600 }));
    assert.equal(onlyEvent(await lenient.handleCallback(request(callbackBody(), { timestamp }))).dedupKey, 'msg0AbCdEfGhIjKl==');
  });

  it('refuses a signed body that is not JSON, or not an object, with 400 IMG_ERR_INBOUND_MALFORMED', async () => {
    for (const body of ['{"msgId": ', '[1,2]', 'null']) {
      await assert.rejects(
        async () => adapterFor(channel()).handleCallback(request(body)),
        failsWith('IMG_ERR_INBOUND_MALFORMED', (e) => assert.equal(e.status, 400)),
      );
    }
  });

  it('refuses /hooks callbacks in stream mode, saying where its messages come from', async () => {
    await assert.rejects(
      async () => adapterFor(channel({ mode: 'stream' })).handleCallback(request(callbackBody())),
      failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (e) => assert.match(e.message, /stream mode: its messages arrive over DingTalk's long connection/)),
    );
  });

  it('never logs the appSecret or the sessionWebhook while taking a callback', async () => {
    const { logger, lines } = capturingLogger();
    await adapterFor(channel(), testAdapterDeps(logger)).handleCallback(request(callbackBody()));
    const text = lines.join('');
    assert.ok(!text.includes(APP_SECRET));
    assert.ok(!text.includes(SESSION));
  });

  it('shows the stored payload with the session of its sessionWebhook blanked', () => {
    const body = callbackBody();
    const shown = dingtalk.redactRaw!(body) as Record<string, unknown>;
    assert.equal(shown.sessionWebhook, 'https://oapi.dingtalk.com/robot/sendBySession?session=[redacted]');
    assert.equal(shown.msgId, body.msgId);
    assert.ok((body.sessionWebhook as string).includes(SESSION), 'the stored payload keeps it');
    assert.equal(dingtalk.redactRaw!('not an object'), 'not an object');
  });
});
