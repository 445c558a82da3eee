import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Compares two secrets in constant time. Both sides are hashed first, so the comparison takes the
 * same time whatever their lengths, and neither a token's content nor its length leaks.
 */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Compares a signature a request carries with the one computed for it, in constant time. The
 * length of a signature is fixed by its algorithm and public, so a different length answers false
 * at once and no hashing is needed (safeEqual's two hashes cost more than the HMAC itself on every
 * inbound callback).
 */
export function signatureEquals(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
