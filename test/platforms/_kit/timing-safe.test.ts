import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeEqual, signatureEquals } from '../../../src/platforms/_kit/timing-safe.ts';

describe('safeEqual', () => {
  it('is true for equal strings, including non-ASCII', () => {
    assert.equal(safeEqual('abc123', 'abc123'), true);
    assert.equal(safeEqual('密钥', '密钥'), true);
  });

  it('is false for different strings of the same length', () => {
    assert.equal(safeEqual('abc123', 'abc124'), false);
  });

  it('is false, without throwing, for strings of different lengths', () => {
    assert.equal(safeEqual('abc', 'abcd'), false);
    assert.equal(safeEqual('', 'a'), false);
  });
});

describe('signatureEquals', () => {
  it('is true only for the same signature', () => {
    assert.equal(signatureEquals('3f2a', '3f2a'), true);
    assert.equal(signatureEquals('3f2a', '3f2b'), false);
  });

  it('is false, without throwing, for a different length, including multi-byte characters', () => {
    assert.equal(signatureEquals('3f2', '3f2a'), false);
    assert.equal(signatureEquals('', '3f2a'), false);
    assert.equal(signatureEquals('ab€', 'abcd'), false);
  });
});
