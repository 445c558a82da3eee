import type { z } from 'zod';
import { requiredMessages } from '../config/issue-messages.ts';
import { ImgateError } from '../core/errors.ts';

/**
 * Parses a request part with a schema; a failure is a 400 naming each field and why. `part` names
 * the request part in a message about the whole of it ("query: Unrecognized key: \"after\"").
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query' | 'params' = 'body'): z.infer<S> {
  const result = schema.safeParse(value ?? {}, { error: requiredMessages });
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const first = issues[0];
  throw new ImgateError('IMG_ERR_VALIDATION', {
    message: first ? `${first.path || part}: ${first.message}` : 'the request is not valid',
    details: { issues },
  });
}
