import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { qqKeys, qqSign, verifyQqSignature } from '../../../src/platforms/qq/signature.ts';
import { SECRET, independentPublicKey, independentSignature } from './helpers.ts';

/** event-emit.md, "回调地址验证": the documented op 13 request and the answer QQ expects. */
const DOC_VECTOR = {
  secret: 'DG5g3B4j9X2KOErG',
  eventTs: '1725442341',
  plainToken: 'Arq0D5A61EgUu4OxUvOp',
  signature:
    '87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706',
};

function flipped(buffer: Buffer, index: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] as number) ^ 0x01;
  return copy;
}

describe('qq Ed25519 keys and signatures', () => {
  it('reproduces the op 13 signature of the official docs exactly', () => {
    assert.equal(qqSign(DOC_VECTOR.secret, DOC_VECTOR.eventTs + DOC_VECTOR.plainToken), DOC_VECTOR.signature);
  });

  it("derives sign.md's demo public key (215 195 98 254 …) from a 28-character secret", () => {
    const jwk = qqKeys('naOC0ocQE3shWLAfffVLB1rhYPG7').publicKey.export({ format: 'jwk' });
    const bytes = [...Buffer.from(jwk.x as string, 'base64url')];
    assert.deepEqual(bytes.slice(0, 4), [215, 195, 98, 254]);
    assert.deepEqual(bytes, [215, 195, 98, 254, 120, 174, 248, 31, 242, 50, 135, 180, 147, 98, 139, 93, 176, 42, 60, 79, 227, 11, 33, 94, 77, 25, 96, 155, 93, 118, 103, 58]);
  });

  it('repeats a short secret until the seed has 32 bytes, as the doubling in QQ\'s Go sample does', () => {
    for (const secret of ['abc', 'sixteen-chars-xx', 'a-secret-of-exactly-32-bytes-000', 'a longer secret than thirty-two bytes, cut']) {
      const ours = Buffer.from(qqKeys(secret).publicKey.export({ format: 'jwk' }).x as string, 'base64url');
      assert.deepEqual(ours, independentPublicKey(secret), secret);
    }
  });

  it('accepts a dispatch signed over timestamp ‖ body with a key derived independently', () => {
    const body = Buffer.from('{"op":0,"t":"C2C_MESSAGE_CREATE","d":{"id":"m1","content":"你好"}}', 'utf8');
    const signature = independentSignature(SECRET, Buffer.concat([Buffer.from('1725442341'), body]));
    assert.equal(verifyQqSignature(SECRET, '1725442341', body, signature), true);
    assert.equal(verifyQqSignature(SECRET, '1725442341', body, signature.toUpperCase()), true, 'hex in either case');
  });

  it('refuses a flipped byte in the body, the timestamp or the signature, and another secret', () => {
    const body = Buffer.from('{"op":0,"t":"C2C_MESSAGE_CREATE","d":{"id":"m1"}}', 'utf8');
    const signature = independentSignature(SECRET, Buffer.concat([Buffer.from('1725442341'), body]));
    for (let i = 0; i < body.length; i += 7) assert.equal(verifyQqSignature(SECRET, '1725442341', flipped(body, i), signature), false, `body byte ${i}`);
    assert.equal(verifyQqSignature(SECRET, '1725442342', body, signature), false, 'timestamp');
    const sig = Buffer.from(signature, 'hex');
    for (const i of [0, 31, 32, 62]) assert.equal(verifyQqSignature(SECRET, '1725442341', body, flipped(sig, i).toString('hex')), false, `signature byte ${i}`);
    assert.equal(verifyQqSignature('another-secret-of-the-bot-000000', '1725442341', body, signature), false);
  });

  it('refuses signatures that are not 64 bytes of hex, or whose last byte has its top bits set', () => {
    const body = Buffer.from('{}');
    const signature = independentSignature(SECRET, Buffer.concat([Buffer.from('1'), body]));
    assert.equal(verifyQqSignature(SECRET, '1', body, signature.slice(0, 126)), false);
    assert.equal(verifyQqSignature(SECRET, '1', body, `${signature}00`), false);
    assert.equal(verifyQqSignature(SECRET, '1', body, `${signature.slice(0, 126)}zz`), false);
    assert.equal(verifyQqSignature(SECRET, '1', body, ''), false);
    const highBits = Buffer.from(signature, 'hex');
    highBits[63] = (highBits[63] as number) | 0xe0;
    assert.equal(verifyQqSignature(SECRET, '1', body, highBits.toString('hex')), false);
  });
});
