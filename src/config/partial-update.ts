import { z } from 'zod';

/**
 * The fields of an object schema, each optional and without its default: the body of a partial
 * update (PATCH), where a field left out keeps its stored value. `.partial()` would not do: in zod 4
 * a field's default still fills in a key that is left out.
 */
export function partialUpdateFields(shape: Record<string, z.ZodType>): Record<string, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(
    Object.entries(shape).map(([key, field]) => {
      const bare = field instanceof z.ZodDefault || field instanceof z.ZodPrefault ? (field.unwrap() as z.ZodType) : field;
      return [key, bare.optional().describe(field.description ?? '')];
    }),
  );
}
