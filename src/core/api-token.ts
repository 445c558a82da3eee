import { createHash } from 'node:crypto';

/** API keys are stored and looked up as the sha256 of their token; the token itself is never kept. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
