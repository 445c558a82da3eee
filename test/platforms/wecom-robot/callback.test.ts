import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wecomUrlCheck } from '../../helpers/wecom.ts';
import { adapterFor, channel, onlyEvent, request, robotCallback, robotXml, WEBHOOK_KEY } from './helpers.ts';

describe('robot callbacks', () => {
  it('opens a callback encrypted by @wecom/crypto with the empty receiveid of robots, acking 200 with an empty body', async () => {
    const callback = robotCallback(robotXml());
    const outcome = await adapterFor(channel()).handleCallback(request(callback));
    const event = onlyEvent(outcome);
    assert.equal(event.message.text, 'hello robot');
    assert.equal(event.dedupKey, 'abcdabcdabcd');
    assert.equal(outcome.kind === 'events' && outcome.ack.status, 200);
    assert.equal(outcome.kind === 'events' && outcome.ack.body, '');
  });

  it('keeps the signed query and content type, so raw subscribers can verify the callback themselves', async () => {
    const callback = robotCallback(robotXml());
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(callback)));
    assert.deepEqual(event.rawRequest, { contentType: 'text/xml', query: callback.query });
  });

  it('answers the URL check with the decrypted echostr, exactly', async () => {
    const query = wecomUrlCheck('1616140317555161061', { receiveId: '' });
    const outcome = await adapterFor(channel()).handleCallback(
      request({ query, body: '' }, { method: 'GET' }),
    );
    assert.equal(outcome.kind, 'reply');
    assert.equal(outcome.kind === 'reply' && outcome.reply.body, '1616140317555161061');
  });

  it('refuses methods other than GET and POST with 405', async () => {
    const callback = robotCallback(robotXml());
    await assert.rejects(async () => adapterFor(channel()).handleCallback(request(callback, { method: 'PUT' })), {
      code: 'IMG_ERR_INBOUND_METHOD',
      status: 405,
    });
  });

  it('refuses a callback signed with another token', async () => {
    const callback = robotCallback(robotXml(), { token: 'someOtherToken' });
    await assert.rejects(async () => adapterFor(channel()).handleCallback(request(callback)), {
      code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      status: 401,
    });
  });

  it('refuses a callback whose timestamp is more than timestampWindowSeconds away', async () => {
    const callback = robotCallback(robotXml(), { timestamp: Math.floor(Date.now() / 1000) - 301 });
    await assert.rejects(async () => adapterFor(channel()).handleCallback(request(callback)), { code: 'IMG_ERR_INBOUND_STALE_TIMESTAMP' });
    const lenient = adapterFor(channel({ timestampWindowSeconds: 0 }));
    assert.equal(onlyEvent(await lenient.handleCallback(request(callback))).dedupKey, 'abcdabcdabcd');
  });

  it('refuses a body without <Encrypt>', async () => {
    const callback = robotCallback(robotXml());
    await assert.rejects(
      async () => adapterFor(channel()).handleCallback(request({ query: callback.query, body: '<xml><ToUserName>x</ToUserName></xml>' })),
      { code: 'IMG_ERR_INBOUND_MALFORMED' },
    );
  });

  it('takes no callbacks on a send-only channel (no token and encodingAESKey)', async () => {
    const sendOnly = adapterFor(channel({ token: undefined, encodingAESKey: undefined, webhookKey: WEBHOOK_KEY }));
    const callback = robotCallback(robotXml());
    await assert.rejects(async () => sendOnly.handleCallback(request(callback)), { code: 'IMG_ERR_INBOUND_UNSUPPORTED' });
    await assert.rejects(async () => sendOnly.handleCallback(request({ query: wecomUrlCheck('x', { receiveId: '' }), body: '' }, { method: 'GET' })), {
      code: 'IMG_ERR_INBOUND_UNSUPPORTED',
    });
  });

  it('never logs the WebhookUrl key while taking a callback', async () => {
    const logs = { lines: [] as string[] };
    await adapterFor(channel(), { logs }).handleCallback(request(robotCallback(robotXml())));
    assert.ok(!logs.lines.join('').includes('robot-key'));
  });
});
