import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { parseJsonBody } from '../../../src/platforms/_kit/json-body.ts';

const parse = (text: string) => parseJsonBody(Buffer.from(text, 'utf8'));

describe('parseJsonBody', () => {
  it('parses ordinary JSON into plain objects', () => {
    assert.deepEqual(parse('{"a":1,"b":[true,null,"x"]}'), { a: 1, b: [true, null, 'x'] });
  });

  it('keeps unquoted integers above 2^53 exact as strings, in nested objects and arrays', () => {
    const value = parse('{"NewMsgId": 9223372036854775701, "Data": {"ids": [9007199254740993, 5]}, "small": 42}');
    assert.deepEqual(value, { NewMsgId: '9223372036854775701', Data: { ids: ['9007199254740993', 5] }, small: 42 });
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
  });

  it('leaves long digit runs inside strings alone', () => {
    assert.deepEqual(parse('{"text":"call 12345678901234567890 now","n":1}'), { text: 'call 12345678901234567890 now', n: 1 });
  });

  it('keeps a __proto__ key as data, as JSON.parse does, on the big-number path too', () => {
    const value = parse('{"__proto__": {"polluted": true}, "id": 12345678901234567890}') as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(value.id, '12345678901234567890');
  });

  it('throws IMG_ERR_INBOUND_MALFORMED on broken JSON, on both paths', () => {
    for (const text of ['{"a":', '{"id": 12345678901234567890', '']) {
      assert.throws(
        () => parse(text),
        (error: unknown) => error instanceof ImgateError && error.code === 'IMG_ERR_INBOUND_MALFORMED' && !error.message.includes(text || '\u0000'),
      );
    }
  });
});
