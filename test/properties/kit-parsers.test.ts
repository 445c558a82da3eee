import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseJsonBody } from '../../src/platforms/_kit/json-body.ts';
import { safeEqual, signatureEquals } from '../../src/platforms/_kit/timing-safe.ts';
import { signedQuery } from '../../src/platforms/_kit/wecom-callback.ts';
import { decodeEncodingAESKey, decryptWecomMessage, encryptWecomMessage, verifyWecomSignature, wecomSignature } from '../../src/platforms/_kit/wecom-crypto.ts';
import { containsXmlDeclaration, parseXmlSafely } from '../../src/platforms/_kit/xml.ts';
import { decryptFeishuPayload, encryptFeishuPayload, verifyLarkSignature } from '../../src/platforms/feishu/crypto.ts';
import { WECOM_KEYS } from '../helpers/wecom.ts';
import { RUNS, arbitraryBody, arbitraryRawQuery, outcomeOrRefusalSync } from './arbitraries.ts';

/*
 * The parsers and verifiers of src/platforms/_kit (and Feishu's crypto) on their own: any input
 * gives a value or a 4xx ImgateError, and what they must round-trip does.
 */

const KEY = decodeEncodingAESKey(WECOM_KEYS.encodingAESKey);
const base64ish = fc.oneof(
  fc.base64String({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 160 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('property: _kit parsers', () => {
  it('parseJsonBody: any bytes parse or are refused with 400', () => {
    fc.assert(
      fc.property(arbitraryBody, (body) => {
        const result = outcomeOrRefusalSync(() => parseJsonBody(body));
        if (!result.ok) assert.equal(result.error.code, 'IMG_ERR_INBOUND_MALFORMED');
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('parseJsonBody: equals JSON.parse, except that integers of 16 digits or more come back as their digits', () => {
    // JSON with bigints in it, written with their exact digits, as pad servers write NewMsgId.
    const withBigInts = fc.jsonValue({ maxDepth: 3 }).chain((value) =>
      fc.tuple(fc.constant(value), fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n })),
    );
    fc.assert(
      fc.property(withBigInts, ([value, big]) => {
        const text = JSON.stringify({ value, big: '__BIG__' }).replace('"__BIG__"', big.toString());
        const parsed = parseJsonBody(Buffer.from(text, 'utf8')) as { value: unknown; big: unknown };
        const digits = big.toString().replace('-', '').length;
        assert.deepEqual(parsed.big, digits >= 16 ? big.toString() : Number(big));
        // Elsewhere, where no long integer is written, the same as JSON.parse.
        const written = JSON.stringify(value);
        if (!/\d{16,}/.test(written)) assert.deepEqual(parsed.value, JSON.parse(written));
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('parseXmlSafely: any text parses or is refused with 400, and a DOCTYPE outside CDATA is always refused', () => {
    const xmlish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .array(fc.constantFrom('<xml>', '</xml>', '<a>', '</a>', '<![CDATA[', ']]>', '<!--', '-->', '&amp;', '&lt;', '&#x41;', '&#0;', '&e;', 'text', '"', "'", '<b c="d"/>', '<?xml version="1.0"?>', '<?pi x?>'), { maxLength: 30 })
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(xmlish, fc.boolean(), (text, withDoctype) => {
        const input = withDoctype ? `<!DOCTYPE xml [<!ENTITY e "boom">]>${text}` : text;
        const result = outcomeOrRefusalSync(() => parseXmlSafely(input));
        if (!result.ok) assert.equal(result.error.code, 'IMG_ERR_INBOUND_MALFORMED');
        if (withDoctype) assert.equal(result.ok, false, 'a DOCTYPE was parsed');
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('containsXmlDeclaration: the same answer as the pattern it replaced, on any mix of sections, comments and declarations', () => {
    // The former implementation (quadratic on unclosed openers), as the model.
    const model = (text: string) => /<!\s*(?:DOCTYPE|ENTITY)/i.test(text) && /<!\s*(?:DOCTYPE|ENTITY)/i.test(text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, ''));
    const pieces = fc.array(fc.constantFrom('<![CDATA[', ']]>', '<!--', '-->', '<!DOCTYPE x>', '<! entity', '<!-->', ']]]>', '-', ']', '<', '!', 'text', '<xml>'), { maxLength: 25 });
    fc.assert(
      fc.property(pieces, (parts) => {
        const text = parts.join('');
        assert.equal(containsXmlDeclaration(text), model(text), text);
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('signedQuery: any query string parses or is refused with 400; a percent-encoded value comes back exactly', () => {
    fc.assert(
      fc.property(arbitraryRawQuery, fc.string({ unit: 'binary', maxLength: 40 }), (raw, value) => {
        const result = outcomeOrRefusalSync(() => signedQuery(raw));
        if (!result.ok) assert.equal(result.error.code, 'IMG_ERR_INBOUND_MALFORMED');
        // Any value survives its own percent-encoding, a `+` staying a `+` (WeCom's base64 echostr).
        assert.equal(signedQuery(`echostr=${encodeURIComponent(value)}`).echostr, value);
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('safeEqual and signatureEquals: true exactly for equal strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.boolean(), (a, b, same) => {
        const other = same ? a : b;
        assert.equal(safeEqual(a, other), a === other);
        assert.equal(signatureEquals(a, other), a === other);
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('decryptWecomMessage: any ciphertext decrypts or is refused with 4xx; what is encrypted comes back', () => {
    fc.assert(
      fc.property(base64ish, fc.option(fc.string({ maxLength: 20 })), (encrypt, receiveId) => {
        outcomeOrRefusalSync(() => decryptWecomMessage(KEY, encrypt, receiveId));
      }),
      { numRuns: RUNS.pure },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 30 }), (message, receiveId) => {
        assert.equal(decryptWecomMessage(KEY, encryptWecomMessage(KEY, message, receiveId), receiveId), message);
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('verifyWecomSignature: any query refused with 401 unless it signs the encrypt value', () => {
    const query = fc.record(
      { msg_signature: fc.oneof(fc.string({ maxLength: 50 }), fc.stringMatching(/^[0-9a-f]{40}$/)), timestamp: fc.string({ maxLength: 12 }), nonce: fc.string({ maxLength: 12 }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(query, fc.string({ maxLength: 60 }), (q, encrypt) => {
        const result = outcomeOrRefusalSync(() => verifyWecomSignature(WECOM_KEYS.token, q, encrypt));
        const signs = q.msg_signature !== undefined && q.timestamp && q.nonce && q.msg_signature.toLowerCase() === wecomSignature(WECOM_KEYS.token, q.timestamp, q.nonce, encrypt);
        assert.equal(result.ok, Boolean(signs));
        if (!result.ok) assert.equal(result.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
      }),
      { numRuns: RUNS.pure },
    );
  });

  it('Feishu crypto: any encrypt value decrypts or is refused with 400; any signature headers verify or are refused with 401', () => {
    const encryptKey = 'property-test-encrypt-key';
    fc.assert(
      fc.property(base64ish, (encrypt) => {
        const result = outcomeOrRefusalSync(() => decryptFeishuPayload(encryptKey, encrypt));
        if (!result.ok) assert.equal(result.error.code, 'IMG_ERR_INBOUND_MALFORMED');
      }),
      { numRuns: RUNS.pure },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (plain) => {
        assert.equal(decryptFeishuPayload(encryptKey, encryptFeishuPayload(encryptKey, plain)), Buffer.from(plain, 'utf8').toString('utf8'));
      }),
      { numRuns: RUNS.pure },
    );
    const headers = fc.record(
      { timestamp: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }), nonce: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }), signature: fc.option(fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[0-9a-f]{64}$/)), { nil: undefined }) },
    );
    fc.assert(
      fc.property(headers, arbitraryBody, (h, body) => {
        const result = outcomeOrRefusalSync(() => verifyLarkSignature(encryptKey, h, body));
        if (!result.ok) assert.equal(result.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
        assert.equal(result.ok, false, 'a random signature verified');
      }),
      { numRuns: RUNS.pure },
    );
  });
});
