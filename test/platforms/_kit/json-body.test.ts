import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { parseJsonBody } from '../../../src/platforms/_kit/json-body.ts';
import { parse as losslessParse } from 'lossless-json';

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

describe('parseJsonBody against lossless-json', () => {
  // A seeded generator of documents full of what trips a hand-written scanner: long and short
  // numbers in every position, decimals and exponents, digits and escaped quotes inside strings.
  function generator(seed: number) {
    let state = seed;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const digits = (n: number) => Array.from({ length: n }, (_, i) => String(i === 0 ? 1 + Math.floor(next() * 9) : Math.floor(next() * 10))).join('');
    const number = (): string => {
      const sign = next() < 0.2 ? '-' : '';
      const int = digits(1 + Math.floor(next() * 22));
      const fraction = next() < 0.2 ? `.${digits(1 + Math.floor(next() * 6))}` : '';
      const exponent = next() < 0.1 ? `e${next() < 0.5 ? '-' : '+'}${digits(1)}` : '';
      return `${sign}${int}${fraction}${exponent}`;
    };
    const string = (): string => {
      const parts = ['a', ' ', digits(18), '\\"', '\\\\', ':', ',', '[', '{', '你好', '\\u0041', '\\n'];
      return `"${Array.from({ length: Math.floor(next() * 6) }, () => parts[Math.floor(next() * parts.length)]).join('')}"`;
    };
    const value = (depth: number): string => {
      const pick = next();
      if (depth > 3 || pick < 0.35) return number();
      if (pick < 0.55) return string();
      if (pick < 0.62) return ['true', 'false', 'null'][Math.floor(next() * 3)] as string;
      if (pick < 0.8) return `[ ${Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1)).join(' , ')} ]`;
      return `{${Array.from({ length: Math.floor(next() * 4) }, (_, i) => `${string().slice(0, -1)}${i}":${value(depth + 1)}`).join(',')}}`;
    };
    return () => `{"id":${number()},"v":${value(0)}}`;
  }

  // lossless-json hands every number token to this, so it applies the rule with its own parser.
  const keepLongIntegers = (token: string) => (/^-?\d{16,}$/.test(token) ? token : Number(token));

  it('gives the same value as lossless-json for 2,000 generated documents', () => {
    const document = generator(20261123);
    let withLongIntegers = 0;
    for (let n = 0; n < 2000; n++) {
      const text = document();
      if (/[:,[]\s*-?\d{16,}(?![.eE\d])/.test(text)) withLongIntegers++;
      assert.deepEqual(parse(text), losslessParse(text, null, keepLongIntegers), text);
    }
    assert.ok(withLongIntegers > 500, `only ${withLongIntegers} documents had a long integer`);
  });
});
