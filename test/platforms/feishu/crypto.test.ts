import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AESCipher, EventDispatcher, LoggerLevel, generateChallenge } from '@larksuiteoapi/node-sdk';
import { ImgateError } from '../../../src/core/errors.ts';
import { decryptFeishuPayload, encryptFeishuPayload, larkSignature, verifyLarkSignature } from '../../../src/platforms/feishu/crypto.ts';
import { buildFeishuSample } from '../../../src/platforms/feishu/simulate.ts';
import { failsWith } from '../../helpers/errors.ts';
import { FEISHU_KEYS, encryptAsFeishu, feishuChannel, messageEvent, signatureHeadersFor } from './helpers.ts';

/** A vector passed around for Feishu's event crypto whose source is unconfirmed, so the SDK decides it below. */
const VECTOR = { encryptKey: 'test key', encrypt: 'P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', plain: 'hello world' };

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, trace: () => undefined };

/**
 * What the SDK's adapters (`adaptDefault`, `adaptExpress`) hand `EventDispatcher.invoke`: the parsed
 * body, with the request headers on its prototype.
 */
function sdkRequestData(body: string, headers: Record<string, string>): Record<string, unknown> {
  return Object.assign(Object.create({ headers }), JSON.parse(body)) as Record<string, unknown>;
}

/** The SDK's dispatcher for this app, answering what its `im.message.receive_v1` handler received. */
function sdkDispatcher(encryptKey: string) {
  return new EventDispatcher({ encryptKey, verificationToken: FEISHU_KEYS.verificationToken, loggerLevel: LoggerLevel.error, logger: quiet }).register({
    'im.message.receive_v1': async (data: unknown) => data,
  });
}

describe('Feishu crypto against @larksuiteoapi/node-sdk', () => {
  it('decrypts the circulating vector to the same text as the SDK\'s AESCipher', () => {
    assert.equal(new AESCipher(VECTOR.encryptKey).decrypt(VECTOR.encrypt), VECTOR.plain);
    assert.equal(decryptFeishuPayload(VECTOR.encryptKey, VECTOR.encrypt), VECTOR.plain);
  });

  it('decrypts bodies encrypted the way the SDK decrypts them (random IV first), with multi-byte text', () => {
    for (const text of ['{}', JSON.stringify(messageEvent({ content: { text: '你好, Lark 👋' } })), 'x'.repeat(16), 'y'.repeat(33)]) {
      const encrypt = encryptAsFeishu(FEISHU_KEYS.encryptKey, text);
      assert.equal(new AESCipher(FEISHU_KEYS.encryptKey).decrypt(encrypt), text, 'the helper agrees with the SDK');
      assert.equal(decryptFeishuPayload(FEISHU_KEYS.encryptKey, encrypt), text);
    }
  });

  it('encrypts what the SDK\'s AESCipher decrypts', () => {
    const text = JSON.stringify({ challenge: 'c-1', token: 't', type: 'url_verification', note: '飞书' });
    assert.equal(new AESCipher(FEISHU_KEYS.encryptKey).decrypt(encryptFeishuPayload(FEISHU_KEYS.encryptKey, text)), text);
  });

  it('signs as the SDK verifies: the dispatcher accepts our signature and refuses a changed one', async () => {
    const payload = messageEvent({ content: { text: 'signed' } });
    const body = JSON.stringify({ encrypt: encryptFeishuPayload(FEISHU_KEYS.encryptKey, JSON.stringify(payload)) });
    const timestamp = '1764000000';
    const nonce = 'n0nce';
    const signature = larkSignature(timestamp, nonce, FEISHU_KEYS.encryptKey, body);
    assert.equal(signature, signatureHeadersFor(body, FEISHU_KEYS.encryptKey, timestamp, nonce)['x-lark-signature']);
    const headers = { 'x-lark-request-timestamp': timestamp, 'x-lark-request-nonce': nonce, 'x-lark-signature': signature };

    const handled = (await sdkDispatcher(FEISHU_KEYS.encryptKey).invoke(sdkRequestData(body, headers))) as any;
    assert.equal(handled?.message?.message_id, payload.event.message.message_id, 'the SDK verified, decrypted and dispatched it');

    const forged = { ...headers, 'x-lark-signature': signature.replace(/^./, (c) => (c === '0' ? '1' : '0')) };
    assert.equal(await sdkDispatcher(FEISHU_KEYS.encryptKey).invoke(sdkRequestData(body, forged)), undefined);
    // And ours agrees on both.
    assert.doesNotThrow(() => verifyLarkSignature(FEISHU_KEYS.encryptKey, { timestamp, nonce, signature }, Buffer.from(body)));
    assert.throws(
      () => verifyLarkSignature(FEISHU_KEYS.encryptKey, { timestamp, nonce, signature: forged['x-lark-signature'] }, Buffer.from(body)),
      failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'),
    );
  });

  it('checks the signature over the raw bytes, where the SDK re-serializes the parsed body', () => {
    // Pretty-printed JSON: Feishu signs what it sent. The SDK would hash the compact form and fail.
    const body = JSON.stringify({ encrypt: encryptFeishuPayload(FEISHU_KEYS.encryptKey, '{}') }, null, 2);
    const headers = signatureHeadersFor(body, FEISHU_KEYS.encryptKey);
    const signed = { timestamp: headers['x-lark-request-timestamp'], nonce: headers['x-lark-request-nonce'], signature: headers['x-lark-signature'] };
    assert.doesNotThrow(() => verifyLarkSignature(FEISHU_KEYS.encryptKey, signed, Buffer.from(body)));
  });

  it('builds simulate samples the SDK verifies, decrypts and dispatches', async () => {
    const config = feishuChannel({ encryptKey: FEISHU_KEYS.encryptKey, verificationToken: FEISHU_KEYS.verificationToken });
    const sample = buildFeishuSample(config, { text: 'from the sample' });
    const handled = (await sdkDispatcher(FEISHU_KEYS.encryptKey).invoke(sdkRequestData(sample.body, sample.headers))) as any;
    assert.ok(handled, 'the SDK accepted the sample');
    assert.equal(handled.event_type, 'im.message.receive_v1');
    assert.equal(handled.token, FEISHU_KEYS.verificationToken);
    assert.equal(JSON.parse(handled.message.content).text, 'from the sample');
  });

  it('answers the same challenge as the SDK\'s generateChallenge for an encrypted url_verification', () => {
    const encrypt = encryptFeishuPayload(FEISHU_KEYS.encryptKey, JSON.stringify({ challenge: 'ch-42', token: 'tok', type: 'url_verification' }));
    const sdk = generateChallenge({ encrypt }, { encryptKey: FEISHU_KEYS.encryptKey });
    assert.deepEqual(sdk, { isChallenge: true, challenge: { challenge: 'ch-42' } });
    assert.equal(JSON.parse(decryptFeishuPayload(FEISHU_KEYS.encryptKey, encrypt)).challenge, 'ch-42');
  });

  it('refuses what cannot be decrypted with 400 IMG_ERR_INBOUND_MALFORMED', () => {
    // A fixed IV: with a random one, a wrong key ends in valid padding about once in 256 runs.
    const encrypt = encryptFeishuPayload('another key', '{"a":1}', Buffer.alloc(16, 7));
    assert.throws(() => decryptFeishuPayload(FEISHU_KEYS.encryptKey, encrypt), (error: unknown) => {
      assert.ok(error instanceof ImgateError);
      assert.equal(error.code, 'IMG_ERR_INBOUND_MALFORMED');
      assert.match(error.message, /encryptKey/);
      return true;
    });
    for (const bad of ['', 'not base64!', Buffer.alloc(20).toString('base64'), Buffer.alloc(16).toString('base64')]) {
      assert.throws(() => decryptFeishuPayload(FEISHU_KEYS.encryptKey, bad), failsWith('IMG_ERR_INBOUND_MALFORMED'), bad);
    }
  });
});
