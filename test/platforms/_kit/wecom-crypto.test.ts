import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as official from '@wecom/crypto';
import {
  decodeEncodingAESKey,
  decryptWecomMessage,
  encryptWecomMessage,
  verifyWecomSignature,
  wecomSignature,
} from '../../../src/platforms/_kit/wecom-crypto.ts';
import { WECOM_VECTOR as VECTOR } from '../../helpers/wecom.ts';

const key = decodeEncodingAESKey(VECTOR.encodingAESKey);

describe('WeCom callback crypto', () => {
  it('reproduces the official vector: signature, message and receiveid', () => {
    assert.equal(wecomSignature(VECTOR.token, VECTOR.timestamp, VECTOR.nonce, VECTOR.echostr), VECTOR.signature);
    assert.equal(decryptWecomMessage(key, VECTOR.echostr, VECTOR.corpId), VECTOR.message);
  });

  it('agrees with @wecom/crypto on signatures', () => {
    const encrypt = randomBytes(48).toString('base64');
    assert.equal(wecomSignature('tok', '1700000000', 'n0nce', encrypt), official.getSignature('tok', '1700000000', 'n0nce', encrypt));
  });

  it('decrypts what @wecom/crypto encrypts, for every padding length from 1 to 32', () => {
    for (let size = 0; size < 32; size += 1) {
      const message = `<xml>${'x'.repeat(size)}中</xml>`;
      const encrypted = official.encrypt(VECTOR.encodingAESKey, message, 'corp-1');
      assert.equal(decryptWecomMessage(key, encrypted, 'corp-1'), message);
    }
  });

  it('encrypts what @wecom/crypto decrypts', () => {
    const random = randomBytes(16);
    const encrypted = encryptWecomMessage(key, '<xml><Content>你好</Content></xml>', 'corp-1', random);
    assert.deepEqual(official.decrypt(VECTOR.encodingAESKey, encrypted), { message: '<xml><Content>你好</Content></xml>', id: 'corp-1', random });
  });

  it('refuses a message for another receiver, a bad signature and garbage', () => {
    const encrypted = encryptWecomMessage(key, 'hello', 'corp-1');
    assert.throws(() => decryptWecomMessage(key, encrypted, 'corp-2'), { code: 'IMG_ERR_INBOUND_BAD_SIGNATURE' });
    assert.throws(() => verifyWecomSignature('tok', { msg_signature: 'a'.repeat(40), timestamp: '1', nonce: '2' }, encrypted), {
      code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
    });
    assert.throws(() => decryptWecomMessage(key, randomBytes(64).toString('base64'), 'corp-1'), { code: 'IMG_ERR_INBOUND_MALFORMED' });
    assert.throws(() => decryptWecomMessage(key, 'not base64 at all', 'corp-1'), { code: 'IMG_ERR_INBOUND_MALFORMED' });
  });

  it('keeps + and / of an echostr once the query string is decoded', () => {
    const query = new URLSearchParams(`echostr=${encodeURIComponent(VECTOR.echostr)}`);
    const echostr = query.get('echostr')!;
    assert.equal(echostr, VECTOR.echostr);
    verifyWecomSignature(VECTOR.token, { msg_signature: VECTOR.signature, timestamp: VECTOR.timestamp, nonce: VECTOR.nonce }, echostr);
  });
});
