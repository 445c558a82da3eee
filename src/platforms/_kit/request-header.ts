import type { InboundRequest } from './adapter.ts';

/** A request header's value, the first one where it came more than once. */
export function requestHeader(req: InboundRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
