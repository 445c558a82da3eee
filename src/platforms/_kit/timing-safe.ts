import { timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time. Unequal lengths answer false at once: the length of a
 * signature or token is no secret, and timingSafeEqual would throw on it.
 */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}
