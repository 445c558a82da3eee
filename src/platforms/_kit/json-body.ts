import { ImgateError } from '../../core/errors.ts';

/**
 * A number of 16 or more digits right after `:`, `,` or `[`. It finds every unquoted long integer
 * (and, harmlessly, a few inside strings, which only costs the slower path).
 */
const LONG_NUMBER = /[:,[]\s*-?\d{16,}/;

/** Integers of this many digits or more are kept as strings (2^53 has 16 digits). */
const LONG_INTEGER_DIGITS = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;

/**
 * Parses a JSON body, keeping integers that JSON.parse could round (WeChat's NewMsgId exceeds 2^53,
 * docs/channels/wechat-pad.md) as strings of their digits; fractions and exponents stay numbers.
 * Written by hand rather than with json-bigint: every real pad callback carries such an id, and json-bigint's
 * parser took 22 µs a body against ~5 µs for quoting the long integers and calling JSON.parse
 * (docs/benchmarks.md). A malformed body still fails in JSON.parse.
 */
export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  try {
    return JSON.parse(LONG_NUMBER.test(text) ? quoteLongNumbers(text) : text);
  } catch {
    throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the request body is not valid JSON' });
  }
}

/**
 * One pass over the characters, skipping string literals (with their escapes), that puts quotes
 * around every integer token of LONG_INTEGER_DIGITS digits or more. A regex replace matching every
 * string and number cost three times as much: its callback ran for each of them.
 */
function quoteLongNumbers(text: string): string {
  let out = '';
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = endOfString(text, i);
    } else if (c === MINUS || isDigit(c)) {
      const end = endOfNumber(text, i);
      if (isLongInteger(text, i, end)) {
        out += `${text.slice(copied, i)}"${text.slice(i, end)}"`;
        copied = end;
      }
      i = end - 1;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** The index of the quote closing the string that opens at `start` (or the text's end). */
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return text.length;
}

/** The index after a number token: digits, sign, decimal point and exponent characters. */
function endOfNumber(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && isNumberChar(text.charCodeAt(i))) i++;
  return i;
}

/** A token of an optional minus and LONG_INTEGER_DIGITS digits or more, nothing else. */
function isLongInteger(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start) === MINUS ? start + 1 : start;
  if (end - first < LONG_INTEGER_DIGITS) return false;
  for (let i = first; i < end; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isNumberChar(c: number): boolean {
  // digits, '.', 'e', 'E', '+', '-'
  return isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}
