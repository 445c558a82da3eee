import JSONbig from 'json-bigint';
import { ImgateError } from '../../core/errors.ts';

/**
 * A number of 16 or more digits right after `:`, `,` or `[`. It finds every unquoted long integer
 * (and, harmlessly, a few inside strings, which only costs the slower parse).
 */
const LONG_NUMBER = /[:,[]\s*-?\d{16,}/;

// storeAsString keeps WeChat's NewMsgId (above 2^53, PLATFORMS.md §7) exact as its digits.
const bigJson = JSONbig({ storeAsString: true, protoAction: 'preserve', constructorAction: 'preserve' });

/**
 * Parses a JSON body, keeping integers that JSON.parse would round as strings of their digits.
 * Plain JSON.parse stays the hot path: json-bigint only runs when a long number is present.
 */
export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    if (!LONG_NUMBER.test(text)) return JSON.parse(text);
    return toPlainObjects(bigJson.parse(text));
  } catch {
    throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the request body is not valid JSON' });
  }
}

/** json-bigint builds null-prototype objects; give them the prototype every other parse has. */
function toPlainObjects(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlainObjects);
  if (value === null || typeof value !== 'object') return value;
  const plain: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    Object.defineProperty(plain, key, { value: toPlainObjects(inner), enumerable: true, writable: true, configurable: true });
  }
  return plain;
}
