import { z } from 'zod';

/**
 * Numbers and booleans that may also be written as `${VAR}`: substitution always yields text, so
 * "8080" and "true"/"false" are read as what they say. Anything else is left for the schema to
 * refuse with its usual message.
 */
export function configNumber(schema: z.ZodNumber = z.number()) {
  return z.preprocess((value) => (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value), schema);
}

export function configBoolean() {
  return z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
}
