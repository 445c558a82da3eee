import type { FastifyError, FastifyInstance } from 'fastify';
import { ImgateError, type ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/** Fastify's own errors, in terms of the catalogue. */
const FASTIFY_CODES: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'IMG_ERR_BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'IMG_ERR_VALIDATION', message: 'the body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'IMG_ERR_VALIDATION', message: 'the body is empty' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'IMG_ERR_VALIDATION', message: 'send the body as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'IMG_ERR_VALIDATION', message: 'Content-Length does not match the body' },
};

export function toImgateError(error: FastifyError | ImgateError | Error): ImgateError {
  if (error instanceof ImgateError) return error;
  const mapped = 'code' in error && typeof error.code === 'string' ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return new ImgateError(mapped.code, { message: mapped.message });
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return new ImgateError('IMG_ERR_VALIDATION');
  return new ImgateError('IMG_ERR_INTERNAL', { cause: error });
}

/** Every error leaves as `{"error": {"code", "message"}}` with the catalogue's status. */
export function registerErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = toImgateError(error);
    if (mapped.code === 'IMG_ERR_INTERNAL') logger.error({ err: error, route: request.routeOptions.url }, 'unhandled error');
    request.logFields.code = mapped.code;
    if (mapped.retryAfter !== undefined) reply.header('retry-after', String(Math.ceil(mapped.retryAfter)));
    return reply.status(mapped.status).type('application/json').send(mapped.toBody());
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.status(404).type('application/json').send(new ImgateError('IMG_ERR_ROUTE_NOT_FOUND').toBody()),
  );
}
