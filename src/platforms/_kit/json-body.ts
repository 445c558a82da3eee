import { ImgateError } from '../../core/errors.ts';

/**
 * A number of 16 or more digits right after `:`, `,` or `[`. It finds every unquoted long integer
 * (and, harmlessly, a few inside strings, which only costs the slower path).
 */
const LONG_NUMBER = /[:,[]\s*-?\d{16,}/;

/** A JSON string literal (left alone) or a number token. */
const STRING_OR_NUMBER = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * Parses a JSON body, keeping numbers that JSON.parse would round (WeChat's NewMsgId exceeds 2^53,
 * PLATFORMS.md §7) as strings of their digits. Written by hand rather than with json-bigint: every
 * real pad callback carries such an id, and json-bigint's parser took 22 µs a body against 3 µs for
 * quoting the long number tokens (those over 15 characters, json-bigint's own rule) and calling
 * JSON.parse (docs/benchmarks.md). Strings are matched whole first, so digits inside them are never
 * touched; a malformed body still fails in JSON.parse.
 */
export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    if (!LONG_NUMBER.test(text)) return JSON.parse(text);
    return JSON.parse(text.replace(STRING_OR_NUMBER, (token) => (token[0] !== '"' && token.length > 15 ? `"${token}"` : token)));
  } catch {
    throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the request body is not valid JSON' });
  }
}
