import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ImgateError } from '../../core/errors.ts';

// `npm run build` writes the console to dist/console/ (scripts/build-console.mjs). This file sits three
// levels below the package root both as src/http/routes/console.ts and as dist/http/routes/console.js.
const BUILT = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

// Only this origin's own script and stylesheet, and fetches back to it: no inline script, nothing
// from elsewhere, no framing (the token typed into the page must stay in it).
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `GET /console/`: the admin console, static files served by the gateway itself. It holds no secret
 * and needs none to load; every page asks the `/v1` API with the admin token the operator types in.
 */
export async function consoleRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
  });
  app.get('/console', async (_request, reply) => reply.redirect('/console/'));
  if (!existsSync(`${BUILT}/index.html`)) {
    app.get('/console/*', async () => {
      throw new ImgateError('IMG_ERR_ROUTE_NOT_FOUND', { message: 'the console is not built: run `npm run build`' });
    });
    return;
  }
  await app.register(fastifyStatic, { root: BUILT, prefix: '/console/', index: 'index.html', cacheControl: false });
}
