import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallbackOutcome, ChannelAdapter, InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { encryptFeishuPayload } from '../../../src/platforms/feishu/crypto.ts';
import { createFeishuAdapter } from '../../../src/platforms/feishu/index.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { failsWith } from '../../helpers/errors.ts';
import { BOT_OPEN_ID, FEISHU_KEYS, WS_APP_ID, envelope, feishuCallback, feishuChannel, feishuRequest, messageEvent, signatureHeadersFor } from './helpers.ts';

const { encryptKey, verificationToken } = FEISHU_KEYS;

function adapterFor(overrides: Record<string, unknown> = {}): ChannelAdapter {
  return createFeishuAdapter(feishuChannel({ botOpenId: BOT_OPEN_ID, ...overrides }), testAdapterDeps());
}

/** Both keys set: callbacks must be signed and carry the token. */
const secured = () => adapterFor({ encryptKey, verificationToken });

async function handle(adapter: ChannelAdapter, req: InboundRequest): Promise<CallbackOutcome> {
  return adapter.handleCallback(req);
}

function rawRequest(body: string, headers: Record<string, string> = {}): InboundRequest {
  return feishuRequest({ body, headers: { 'content-type': 'application/json', ...headers } });
}

describe('Feishu event callbacks', () => {
  describe('url_verification', () => {
    it('answers a plain check with its challenge at once and stores nothing', async () => {
      const outcome = await handle(adapterFor({ verificationToken }), feishuRequest(feishuCallback({ challenge: 'ch-plain', token: verificationToken, type: 'url_verification' })));
      assert.deepEqual(outcome, { kind: 'reply', reply: { status: 200, contentType: 'application/json', body: { challenge: 'ch-plain' } } });
    });

    it('decrypts an encrypted check, which Feishu may send unsigned, and answers its challenge', async () => {
      const check = feishuCallback({ challenge: 'ch-secret', token: verificationToken, type: 'url_verification' }, { encryptKey, sign: false });
      const outcome = await handle(secured(), feishuRequest(check));
      assert.equal(outcome.kind, 'reply');
      assert.deepEqual(outcome.kind === 'reply' && outcome.reply.body, { challenge: 'ch-secret' });
    });

    it('answers a signed encrypted check too', async () => {
      const check = feishuCallback({ challenge: 'ch-signed', token: verificationToken, type: 'url_verification' }, { encryptKey });
      const outcome = await handle(secured(), feishuRequest(check));
      assert.deepEqual(outcome.kind === 'reply' && outcome.reply.body, { challenge: 'ch-signed' });
    });

    it('refuses a check with a wrong or missing verification token with 401 IMG_ERR_INBOUND_BAD_TOKEN', async () => {
      for (const token of ['wrong-token', undefined]) {
        const check = feishuCallback({ challenge: 'ch', token, type: 'url_verification' }, { encryptKey });
        await assert.rejects(handle(secured(), feishuRequest(check)), failsWith('IMG_ERR_INBOUND_BAD_TOKEN', (error) => assert.equal(error.status, 401)));
      }
    });
  });

  describe('events', () => {
    it('opens an encrypted, signed event and hands it on to be stored, deduplicated on header.event_id, acknowledged with {}', async () => {
      const payload = messageEvent({ content: { text: 'hello' } });
      const outcome = await handle(secured(), feishuRequest(feishuCallback(payload, { encryptKey })));
      assert.equal(outcome.kind, 'events');
      if (outcome.kind !== 'events') return;
      assert.deepEqual(outcome.ack, { status: 200, contentType: 'application/json', body: {} });
      assert.equal(outcome.events.length, 1);
      const [event] = outcome.events;
      assert.equal(event!.dedupKey, payload.header.event_id);
      assert.equal(event!.message.text, 'hello');
      assert.deepEqual(event!.raw, { ...payload, header: { ...payload.header, token: '[redacted]' } }, 'raw is the decrypted event, its token blanked');
    });

    it('takes plain events on a channel with only a verification token, and on one with no keys at all', async () => {
      for (const adapter of [adapterFor({ verificationToken }), adapterFor()]) {
        const outcome = await handle(adapter, feishuRequest(feishuCallback(messageEvent())));
        assert.equal(outcome.kind, 'events');
      }
    });

    it('takes a plain body signed with the Encrypt Key', async () => {
      const body = JSON.stringify(messageEvent());
      const outcome = await handle(secured(), rawRequest(body, signatureHeadersFor(body, encryptKey)));
      assert.equal(outcome.kind, 'events');
    });

    it('acknowledges event types it does not store, after the same checks', async () => {
      const reaction = envelope('im.message.reaction.created_v1', { message_id: 'om_1', reaction_type: { emoji_type: 'SMILE' } });
      assert.deepEqual(await handle(secured(), feishuRequest(feishuCallback(reaction, { encryptKey }))), {
        kind: 'reply',
        reply: { status: 200, contentType: 'application/json', body: {} },
      });
      const forged = envelope('im.message.reaction.created_v1', {}, { token: 'wrong' });
      await assert.rejects(handle(secured(), feishuRequest(feishuCallback(forged, { encryptKey }))), failsWith('IMG_ERR_INBOUND_BAD_TOKEN'));
    });

    it('acknowledges schema 1.0 events without storing them, checking their token', async () => {
      const v1 = { uuid: 'u-1', token: verificationToken, ts: '1764000000.1', type: 'event_callback', event: { type: 'message', text: 'hi' } };
      const outcome = await handle(adapterFor({ verificationToken }), feishuRequest(feishuCallback(v1)));
      assert.equal(outcome.kind, 'reply');
      await assert.rejects(handle(adapterFor({ verificationToken }), feishuRequest(feishuCallback({ ...v1, token: 'nope' }))), failsWith('IMG_ERR_INBOUND_BAD_TOKEN'));
    });
  });

  describe('refuses, with precise errors', () => {
    it('a wrong signature: 401 IMG_ERR_INBOUND_BAD_SIGNATURE', async () => {
      const callback = feishuCallback(messageEvent(), { encryptKey });
      callback.headers['x-lark-signature'] = '0'.repeat(64);
      await assert.rejects(handle(secured(), feishuRequest(callback)), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (error) => assert.equal(error.status, 401)));
    });

    it('a signature over another body: 401', async () => {
      const callback = feishuCallback(messageEvent(), { encryptKey });
      const other = feishuCallback(messageEvent(), { encryptKey });
      await assert.rejects(handle(secured(), feishuRequest({ body: callback.body, headers: other.headers })), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
    });

    it('an unsigned event on a channel with an Encrypt Key: 401', async () => {
      await assert.rejects(
        handle(secured(), feishuRequest(feishuCallback(messageEvent(), { encryptKey, sign: false }))),
        failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (error) => assert.match(error.message, /X-Lark-Signature/)),
      );
    });

    it('a timestamp outside the window: 401 IMG_ERR_INBOUND_STALE_TIMESTAMP; a window of 0 turns the check off', async () => {
      const old = String(Math.floor(Date.now() / 1000) - 301);
      const callback = feishuCallback(messageEvent(), { encryptKey, timestamp: old });
      await assert.rejects(handle(secured(), feishuRequest(callback)), failsWith('IMG_ERR_INBOUND_STALE_TIMESTAMP', (error) => assert.equal(error.status, 401)));
      const future = feishuCallback(messageEvent(), { encryptKey, timestamp: String(Math.floor(Date.now() / 1000) + 400) });
      await assert.rejects(handle(secured(), feishuRequest(future)), failsWith('IMG_ERR_INBOUND_STALE_TIMESTAMP'));
      const lenient = adapterFor({ encryptKey, verificationToken, timestampWindowSeconds: 0 });
      assert.equal((await handle(lenient, feishuRequest(callback))).kind, 'events');
    });

    it('a wrong or missing header.token: 401 IMG_ERR_INBOUND_BAD_TOKEN', async () => {
      const wrong = messageEvent({}, { token: 'not-the-token' });
      await assert.rejects(handle(secured(), feishuRequest(feishuCallback(wrong, { encryptKey }))), failsWith('IMG_ERR_INBOUND_BAD_TOKEN'));
      const missing = messageEvent({}, { token: undefined });
      await assert.rejects(handle(adapterFor({ verificationToken }), feishuRequest(feishuCallback(missing))), failsWith('IMG_ERR_INBOUND_BAD_TOKEN'));
    });

    it('a body that is not JSON, or not an object: 400 IMG_ERR_INBOUND_MALFORMED', async () => {
      for (const body of ['{"schema": "2.0",', '', '[1,2]', '"text"']) {
        await assert.rejects(handle(adapterFor(), rawRequest(body)), failsWith('IMG_ERR_INBOUND_MALFORMED', (error) => assert.equal(error.status, 400)), body);
      }
    });

    it('an encrypt value that is not a string, not base64 of whole blocks, or not from this key: 400 IMG_ERR_INBOUND_MALFORMED', async () => {
      const lenient = adapterFor({ encryptKey, timestampWindowSeconds: 0 });
      const bodies = [
        JSON.stringify({ encrypt: 42 }),
        JSON.stringify({ encrypt: '' }),
        JSON.stringify({ encrypt: 'bm90IGJsb2Nrcw==' }),
        JSON.stringify({ encrypt: encryptFeishuPayload('some other key', JSON.stringify(messageEvent()), Buffer.alloc(16, 7)) }),
      ];
      for (const body of bodies) {
        await assert.rejects(handle(lenient, rawRequest(body, signatureHeadersFor(body, encryptKey))), failsWith('IMG_ERR_INBOUND_MALFORMED'), body);
      }
    });

    it('an encrypted body whose plaintext is not a JSON object: 400 IMG_ERR_INBOUND_MALFORMED', async () => {
      for (const plain of ['not json', '[1]']) {
        const body = JSON.stringify({ encrypt: encryptFeishuPayload(encryptKey, plain) });
        await assert.rejects(handle(secured(), rawRequest(body, signatureHeadersFor(body, encryptKey))), failsWith('IMG_ERR_INBOUND_MALFORMED'));
      }
    });

    it('an encrypted body on a channel without an encryptKey: 400 IMG_ERR_INBOUND_UNSUPPORTED naming the key', async () => {
      await assert.rejects(
        handle(adapterFor({ verificationToken }), feishuRequest(feishuCallback(messageEvent(), { encryptKey }))),
        failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (error) => assert.match(error.message, /encryptKey/)),
      );
    });

    it('JSON that is no Feishu callback: 400 IMG_ERR_INBOUND_UNSUPPORTED', async () => {
      await assert.rejects(handle(adapterFor(), rawRequest('{"hello":"world"}')), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
    });

    it('a message event without event_id, message_id or chat_id: 400 IMG_ERR_INBOUND_UNSUPPORTED', async () => {
      const noEventId = messageEvent({}, { event_id: undefined });
      const noMessageId = messageEvent();
      delete (noMessageId.event.message as Record<string, unknown>).message_id;
      const noChat = messageEvent();
      delete (noChat.event.message as Record<string, unknown>).chat_id;
      for (const payload of [noEventId, noMessageId, noChat]) {
        await assert.rejects(handle(adapterFor(), feishuRequest(feishuCallback(payload))), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
      }
    });

    it('any method but POST: 405 IMG_ERR_INBOUND_METHOD', async () => {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        await assert.rejects(handle(secured(), feishuRequest(feishuCallback({}), { method })), failsWith('IMG_ERR_INBOUND_METHOD', (error) => assert.equal(error.status, 405)));
      }
    });

    it('any callback to a websocket-mode channel: 400 IMG_ERR_INBOUND_UNSUPPORTED', async () => {
      const check = feishuCallback({ challenge: 'ch', token: verificationToken, type: 'url_verification' });
      await assert.rejects(
        handle(adapterFor({ verificationToken, mode: 'websocket', appId: WS_APP_ID }), feishuRequest(check)),
        failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (error) => assert.match(error.message, /websocket mode: its events come over Feishu's long connection/)),
      );
    });
  });
});
