import type { z } from 'zod';

/**
 * Zod's message for a field left out is "Invalid input: expected string, received undefined"; people
 * read "required". Every other message stays zod's own (they name the expected type, never the value
 * received, so secrets stay out of errors).
 */
export const requiredMessages: z.core.$ZodErrorMap = (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'required' : undefined);
