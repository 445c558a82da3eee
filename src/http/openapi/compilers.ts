import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import type { z } from 'zod';
import { validate } from '../validate.ts';

/**
 * Route schemas are zod schemas (their OpenAPI form comes from `fastify-type-provider-zod`'s
 * transform). They are checked by `validate`, not by the library's compiler, so that a bad request
 * gets the same 400 as before: the field, why, "required" for a missing one.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    try {
      return { value: validate(schema, data, httpPart === 'querystring' ? 'query' : httpPart === 'params' ? 'params' : 'body') };
    } catch (error) {
      return { error: error as Error };
    }
  };

/**
 * Response schemas document the answers; the answers are written as the handlers build them. An
 * answer that did not match its schema would be a 500 to the caller for a mistake in the document.
 */
export const documentingSerializerCompiler: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);
