/**
 * Reading values out of parsed platform payloads (JSON, or XML parsed to objects), where a field
 * may be missing, empty, a number or a string of digits. One set of readers for every adapter.
 */

export type Json = Record<string, unknown>;

export function isJsonObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value if it is a JSON object, else null. */
export function jsonObject(value: unknown): Json | null {
  return isJsonObject(value) ? value : null;
}

/** A string or number as text; empty strings and anything else are null. */
export function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number') return String(value);
  return null;
}

/**
 * Any payload value as text for messages and command lines: `String(value)`, except that objects
 * and arrays are written as JSON. Parsed JSON and XML can hold an object whose own `toString` or
 * `valueOf` key is data, on which `String()`, `Number()` and template literals throw a TypeError.
 */
export function displayText(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A finite number from a number or a numeric string; blank, missing or not a number is null. */
export function optionalNumber(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

/**
 * A platform's time (milliseconds since the epoch) as an ISO string, or `fallback`'s when it is
 * not a positive time a Date can hold (up to ±8.64e15 ms): `toISOString` throws a RangeError
 * beyond that, and a payload's `1e300` must not turn a callback into a 500.
 */
export function isoTimeOr(ms: number | null, fallback: Date): string {
  const date = ms !== null && ms > 0 ? new Date(ms) : null;
  return date !== null && !Number.isNaN(date.getTime()) ? date.toISOString() : fallback.toISOString();
}
