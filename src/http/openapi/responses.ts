import { z } from 'zod';
import { ERRORS, type ErrorCode } from '../../core/errors.ts';

/** Answers any route can give: the gateway stopping, its store in trouble, a bug. */
const ANY_ROUTE: ErrorCode[] = ['IMG_ERR_SHUTTING_DOWN', 'IMG_ERR_OVERLOADED', 'IMG_ERR_STORE_FULL', 'IMG_ERR_INTERNAL'];

/** A management route's credential: the admin token. */
export const ADMIN_ERRORS: ErrorCode[] = ['IMG_ERR_AUTH_MISSING', 'IMG_ERR_AUTH_INVALID', 'IMG_ERR_AUTH_ADMIN_ONLY'];

/** A route that takes a JSON body: it may be too large, not JSON, or not what the schema says. */
export const BODY_ERRORS: ErrorCode[] = ['IMG_ERR_VALIDATION', 'IMG_ERR_BODY_TOO_LARGE'];

/**
 * The error answers of a route, one per status, each `{"error": {"code", "message"}}` with the codes
 * of the catalogue (src/core/errors.ts) that come with that status, so that statuses and codes in
 * the document are the catalogue's.
 */
export function errorResponses(...codes: ErrorCode[]): Record<number, z.ZodType> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...codes, ...ANY_ROUTE])) {
    const { status } = ERRORS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, group]) => [status, errorBody(status, group)]));
}

function errorBody(status: number, codes: ErrorCode[]): z.ZodType {
  const body = z.object({
    error: z.object({
      code: z.enum(codes),
      message: z.string().describe("For people; often more precise than the catalogue's message (docs/errors.md)."),
      details: z.record(z.string(), z.unknown()).optional().describe('More about the error, e.g. `issues` (every invalid field) with IMG_ERR_VALIDATION.'),
    }),
  });
  const described = codes.map((code) => `\`${code}\`: ${ERRORS[code].message}`).join('. ');
  // A 429 says when to retry in the body too (and in a Retry-After header).
  const shaped = status === 429 ? body.extend({ retry_after: z.number().int().describe('Seconds to wait before retrying.') }) : body;
  return shaped.describe(described);
}

/** No query parameters: one sent anyway (`?after=`, a typo) is refused with a 400 naming it. */
export const noQuery = z.strictObject({});

/** The `:id` of a by-id route. */
export const idParams = z.object({ id: z.string() });
