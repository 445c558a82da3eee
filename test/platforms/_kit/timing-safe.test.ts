import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeEqual } from '../../../src/platforms/_kit/timing-safe.ts';

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
