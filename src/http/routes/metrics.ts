import type { FastifyInstance } from 'fastify';
import { ImgateError } from '../../core/errors.ts';
import { safeEqual } from '../../platforms/_kit/timing-safe.ts';
import { bearerToken } from '../plugins/auth.ts';
import type { AppContext } from '../context.ts';

/** `GET /metrics`: Prometheus text, behind `metrics.token` when one is set (docs/operations.md). */
export async function metricsRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { token } = ctx.config.metrics;
  app.get('/metrics', async (request, reply) => {
    if (token !== undefined) {
      const given = bearerToken(request);
      if (given === undefined) throw new ImgateError('IMG_ERR_AUTH_MISSING', { message: 'GET /metrics needs metrics.token as a Bearer token' });
      if (!safeEqual(given, token)) throw new ImgateError('IMG_ERR_AUTH_INVALID', { message: 'GET /metrics needs metrics.token as a Bearer token' });
    }
    const text = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(text);
  });
}
