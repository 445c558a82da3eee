import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failsWith } from '../../helpers/errors.ts';
import { adapterFor, channel, dispatch, onlyEvent, request, signedHeaders } from './helpers.ts';

const DOC_SECRET = 'DG5g3B4j9X2KOErG';
const DOC_BODY = '{"d":{"plain_token":"Arq0D5A61EgUu4OxUvOp","event_ts":"1725442341"},"op":13}';
const DOC_SIGNATURE =
  '87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706';

function flipByte(text: string, index: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  bytes[index] = (bytes[index] as number) ^ 0x01;
  return bytes;
}

describe('qq callbacks', () => {
  it('refuses an unsigned body whose op is an object with a toString key with 400, not a TypeError (a 500)', async () => {
    // Found by test/properties/qq-callback.test.ts: the op is read before a dispatch must be signed.
    await assert.rejects(
      async () => adapterFor(channel()).handleCallback(request('{"op":{"toString":""},"d":{}}', { unsigned: true })),
      failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (e) => assert.match(e.message, /op \{"toString":""\}/)),
    );
  });

  describe('op 13 URL validation', () => {
    it("answers the docs' unsigned request exactly as the docs expect, storing nothing", async () => {
      const outcome = await adapterFor(channel({ secret: DOC_SECRET })).handleCallback(
        request(DOC_BODY, { unsigned: true, headers: { 'user-agent': 'QQBot-Callback', 'x-bot-appid': '11111111' } }),
      );
      assert.equal(outcome.kind, 'reply');
      assert.deepEqual(outcome.kind === 'reply' && outcome.reply, {
        status: 200,
        contentType: 'application/json',
        body: { plain_token: 'Arq0D5A61EgUu4OxUvOp', signature: DOC_SIGNATURE },
      });
    });

    it('takes event_ts as a number too', async () => {
      const body = '{"d":{"plain_token":"Arq0D5A61EgUu4OxUvOp","event_ts":1725442341},"op":13}';
      const outcome = await adapterFor(channel({ secret: DOC_SECRET })).handleCallback(request(body, { unsigned: true }));
      assert.equal(outcome.kind === 'reply' && (outcome.reply.body as { signature: string }).signature, DOC_SIGNATURE);
    });

    it('checks the signature when QQ signs the request, and refuses a wrong one with 401', async () => {
      const signed = await adapterFor(channel({ secret: DOC_SECRET })).handleCallback(request(DOC_BODY, { secret: DOC_SECRET }));
      assert.equal(signed.kind === 'reply' && (signed.reply.body as { signature: string }).signature, DOC_SIGNATURE);
      await assert.rejects(
        async () => adapterFor(channel({ secret: DOC_SECRET })).handleCallback(request(DOC_BODY, { secret: 'not-the-bot-secret' })),
        failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (e) => assert.equal(e.status, 401)),
      );
    });

    it('signs no plain_token that could spell an event body, so an answer never signs a forged dispatch', async () => {
      const forged = JSON.stringify(dispatch('C2C_MESSAGE_CREATE', { content: 'transfer everything' }));
      const timestamp = '1725442341';
      const oracle = JSON.stringify({ op: 13, d: { event_ts: timestamp, plain_token: forged } });
      await assert.rejects(
        async () => adapterFor(channel()).handleCallback(request(oracle, { unsigned: true })),
        failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (e) => assert.equal(e.status, 400)),
      );
      for (const d of [{ event_ts: `${timestamp}{`, plain_token: 'abc' }, { event_ts: timestamp }, { plain_token: 'abc' }, {}]) {
        await assert.rejects(async () => adapterFor(channel()).handleCallback(request({ op: 13, d }, { unsigned: true })), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
      }
    });
  });

  describe('op 0 dispatch', () => {
    it('takes a dispatch signed with an independently derived key as one event, acknowledged with op 12', async () => {
      const payload = dispatch('C2C_MESSAGE_CREATE', { id: 'ROBOT1.0_one', content: 'hello bot' });
      const outcome = await adapterFor(channel()).handleCallback(request(payload));
      const event = onlyEvent(outcome);
      assert.equal(event.dedupKey, 'ROBOT1.0_one');
      assert.equal(event.message.text, 'hello bot');
      assert.deepEqual(outcome.kind === 'events' && outcome.ack, { status: 200, contentType: 'application/json', body: { op: 12, d: 0 } });
    });

    it('refuses a flipped byte in the body or in the signature with 401', async () => {
      const body = JSON.stringify(dispatch('C2C_MESSAGE_CREATE', { content: 'hello' }));
      const headers = signedHeaders(body);
      for (const index of [0, 20, body.length - 2]) {
        await assert.rejects(
          async () => adapterFor(channel()).handleCallback({ ...request(body), rawBody: flipByte(body, index), headers }),
          failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (e) => assert.equal(e.status, 401)),
          `body byte ${index}`,
        );
      }
      const signature = Buffer.from(headers['x-signature-ed25519'] as string, 'hex');
      signature[10] = (signature[10] as number) ^ 0x01;
      await assert.rejects(
        async () => adapterFor(channel()).handleCallback({ ...request(body), headers: { ...headers, 'x-signature-ed25519': signature.toString('hex') } }),
        failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (e) => assert.equal(e.status, 401)),
      );
    });

    it('refuses an unsigned dispatch, and one without its timestamp, with 401', async () => {
      const body = JSON.stringify(dispatch('C2C_MESSAGE_CREATE'));
      await assert.rejects(async () => adapterFor(channel()).handleCallback(request(body, { unsigned: true })), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
      const headers = signedHeaders(body);
      delete headers['x-signature-timestamp'];
      await assert.rejects(async () => adapterFor(channel()).handleCallback({ ...request(body), headers }), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
    });

    it('refuses a signature by another secret before reading the body', async () => {
      await assert.rejects(
        async () => adapterFor(channel()).handleCallback(request('{not json', { secret: 'some-other-bot-secret-00000000' })),
        failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'),
      );
    });

    it('acknowledges other dispatch types without storing them', async () => {
      const payload = { op: 0, id: 'GROUP_ADD_ROBOT:1', t: 'GROUP_ADD_ROBOT', d: { timestamp: 1700000000, group_openid: 'G1', op_member_openid: 'M1' } };
      const outcome = await adapterFor(channel()).handleCallback(request(payload));
      assert.deepEqual(outcome, { kind: 'reply', reply: { status: 200, contentType: 'application/json', body: { op: 12, d: 0 } } });
    });

    it('answers a signed body that is not a JSON object with 400, and an unknown op with 400', async () => {
      for (const body of ['{"op": ', '[0]', 'null']) {
        await assert.rejects(async () => adapterFor(channel()).handleCallback(request(body)), failsWith('IMG_ERR_INBOUND_MALFORMED', (e) => assert.equal(e.status, 400)));
      }
      await assert.rejects(async () => adapterFor(channel()).handleCallback(request({ op: 11 })), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
    });
  });

  it('answers other methods with 405', async () => {
    await assert.rejects(
      async () => adapterFor(channel()).handleCallback(request(DOC_BODY, { method: 'GET', unsigned: true })),
      failsWith('IMG_ERR_INBOUND_METHOD', (e) => assert.equal(e.status, 405)),
    );
  });

  it('refuses callbacks in websocket mode, where events come over the gateway', async () => {
    const config = channel({ mode: 'websocket' });
    await assert.rejects(async () => adapterFor(config).handleCallback(request(DOC_BODY, { unsigned: true })), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
  });
});
