/**
 * Optimistic concurrency for a resource whose ETag is its stored version: `"<version>"`.
 *
 * Hand-written rather than a library: the well-kept ones (jshttp's `fresh`, @fastify/etag) answer
 * If-None-Match for caches; If-Match (RFC 9110, section 13.1.1) is the few lines below.
 */

export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * Whether an If-Match header lets a write to the resource with `version` go ahead: `*`, or a list
 * naming its ETag. The comparison is strong, so a weak tag (`W/"…"`) never matches.
 */
export function ifMatchAllows(header: string, version: number): boolean {
  if (header.trim() === '*') return true;
  const etag = etagOf(version);
  return header.split(',').some((tag) => tag.trim() === etag);
}
